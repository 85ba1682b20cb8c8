"""Page 3_treino (being built)."""
import streamlit as st

st.write("3_treino")
