"""Streamlit helpers shared by the pages: sidebar context, cached loading, formatting."""
