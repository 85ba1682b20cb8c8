"""Streamlit helpers shared by app.py and the pages (the only place besides paginas/ that imports streamlit)."""
