"""indicators layer of the analysis package."""
