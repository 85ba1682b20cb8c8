"""Core of the fine-tuning comparison dashboard: everything but the UI.

Nothing in this package imports streamlit (tests/test_layout.py checks it). Pages in ../paginas
and the command line (``python -m core --help``) are thin layers over these modules.
"""
from __future__ import annotations

import warnings

# PEFT (0.x) reads ``model.is_gradient_checkpointing``, which transformers 5 deprecated with a
# FutureWarning: every adapter load (training, playground, evaluation) printed it again in the
# user's terminal. Only that one warning is ignored; PEFT's own fix will make this line moot.
warnings.filterwarnings("ignore", message="`is_gradient_checkpointing` is deprecated", category=FutureWarning,
                        module=r"transformers\.modeling_utils")
