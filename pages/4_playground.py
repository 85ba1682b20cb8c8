"""Page 4_playground (being built)."""
import streamlit as st

st.write("4_playground")
