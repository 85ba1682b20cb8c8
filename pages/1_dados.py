"""Page 1_dados (being built)."""
import streamlit as st

st.write("1_dados")
