"""checks layer of the analysis package."""
