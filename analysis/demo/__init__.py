"""demo layer of the analysis package."""
