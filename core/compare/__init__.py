"""Comparison: arena votes and Bradley-Terry, metrics, batch evaluation, prompt variants,
results and the xlsx export/import (journey steps 4-5, pages 4 Playground and 5 Resultados)."""
