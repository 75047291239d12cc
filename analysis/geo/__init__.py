"""geo layer of the analysis package."""
