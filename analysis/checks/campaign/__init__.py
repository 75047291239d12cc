"""The SSR → SMR data-update campaign: checklist rules and their evaluation (``checklist``),
progress across snapshots (``history``), changes between two snapshots (``changes``), to-do
lists (``todo``), campaign plan and forecast (``forecast``).
"""
