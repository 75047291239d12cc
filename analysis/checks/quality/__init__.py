"""National ROR quality for SMR: the requirements and their evaluation (``requirements``), the
population follow-up across quarters (``population``), the ViaTrajectoire sync report
(``vt_report``).
"""
