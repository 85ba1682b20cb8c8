"""Streamlit helpers shared by app.py and the pages (the only place besides pages/ that imports streamlit)."""
