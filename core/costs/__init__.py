"""Costs: the editable price and hardware tables, OpenAI and local estimates, throughput
calibration (page 2 Formatos and page 3 Treino)."""
