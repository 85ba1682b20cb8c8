"""Core of the fine-tuning comparison dashboard: everything but the UI.

Nothing in this package imports streamlit (tests/test_layout.py checks it). Pages in ../paginas
and the command line (``python -m core --help``) are thin layers over these modules.
"""
