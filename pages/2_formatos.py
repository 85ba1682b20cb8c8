"""Page 2_formatos (being built)."""
import streamlit as st

st.write("2_formatos")
