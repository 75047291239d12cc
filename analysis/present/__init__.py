"""present layer of the analysis package."""
