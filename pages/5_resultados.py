"""Page 5_resultados (being built)."""
import streamlit as st

st.write("5_resultados")
