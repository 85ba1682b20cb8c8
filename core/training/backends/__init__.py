"""Training backends: ``local`` (transformers + peft) and the hosted fine-tunes ``openai``,
``together`` and ``fireworks``.

All run inside the training subprocess (``python -m core.training.trainer RUN_DIR``) and talk to the app
only through the run folder (see core/training/backends/base.py).
"""
from __future__ import annotations

import importlib

from core.training.backends.base import Backend

BACKENDS = {
    "local": "core.training.backends.local:LocalBackend",
    "openai": "core.training.backends.openai_backend:OpenAIBackend",
    "together": "core.training.backends.together_backend:TogetherBackend",
    "fireworks": "core.training.backends.fireworks_backend:FireworksBackend",
}


def get_backend(name: str) -> Backend:
    if name not in BACKENDS:
        from core.errors import UserFacingError

        raise UserFacingError(f"Unknown backend {name!r}: choose one of {', '.join(BACKENDS)}.")
    module_name, class_name = BACKENDS[name].split(":")
    return getattr(importlib.import_module(module_name), class_name)()
