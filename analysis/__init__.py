"""SMR Workbench analysis package: pure functions over Polars frames, no Streamlit."""

__version__ = "0.1.0"
