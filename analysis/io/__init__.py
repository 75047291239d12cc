"""io layer of the analysis package."""
