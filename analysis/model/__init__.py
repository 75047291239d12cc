"""model layer of the analysis package."""
