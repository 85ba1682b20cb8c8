"""``TrainConfig``: every setting of a training run, with help text (reused as widget help), and
the presets (the seed study's LoRA recipe, a one-minute CPU demo).

    config = TrainConfig.from_preset("seed-study", data="seed-study", max_steps=30)
    config.to_json()                      # stored with the run, secrets masked

Backend-specific settings ride in a section named after the hosted backend, so that one config
object describes any run: ``openai`` (an OpenAITrainConfig as a dict, core/hosted/openai_finetune.py),
``together`` (TogetherTrainConfig, core/training/backends/together_backend.py) and ``fireworks``
(FireworksTrainConfig, core/training/backends/fireworks_backend.py):

    TrainConfig(backend="together", data="seed-study", format="openai-chat",
                together={"model": "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference", "n_epochs": 3,
                          "learning_rate": 1e-5, "lora_rank": 16, "suffix": "seed", "batch_size": "max"})
    config.hosted_config()               # the provider's config object, validated (one-sentence errors)
    config.remote_model()                # the base model the hosted job fine-tunes

The API keys are never part of a config: they reach the training subprocess only through its
environment (core.hosted.models.launch_env). Imported by core/training/jobs.py (which re-exports it) and by
the local backend in the training subprocess.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from core.config import ConfigBase, ConfigError, option

ALL_PROJECTIONS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
ATTENTION_PROJECTIONS = ["q_proj", "k_proj", "v_proj", "o_proj"]
BACKENDS = ("local", "openai", "together", "fireworks")
# backends whose settings ride in a section of the same name (the provider's own config class)
HOSTED_BACKENDS = ("openai", "together", "fireworks")
PROVIDER_NAMES = {"openai": "OpenAI", "together": "Together", "fireworks": "Fireworks"}   # as sentences name them
PROVIDER_SECTIONS = ("together", "fireworks")
SCHEDULES = ("linear", "cosine", "constant")
DEVICES = ("auto", "cuda", "mps", "cpu")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
LOSS_ON = ("answer", "all")

# The seed study's notebook (Unsloth + TRL on Colab): r 16, alpha 16, dropout 0, every projection,
# lr 2e-4, batch 2 x grad-accum 4, 60 steps, linear schedule with 5 warm-up steps, weight decay
# 0.01, seed 3407; its text field held the whole example, so the loss was on everything.
LOCAL_PRESETS: dict[str, dict[str, Any]] = {
    "seed-study": dict(lora_r=16, lora_alpha=16, lora_dropout=0.0, target_modules=list(ALL_PROJECTIONS),
                       learning_rate=2e-4, lr_scheduler="linear", warmup_steps=5, weight_decay=0.01,
                       batch_size=2, grad_accum=4, max_steps=60, epochs=1.0, seed=3407, loss_on="all",
                       max_seq_len=1024, eval_every=20, eval_examples=64, save_every=20),
    # About a minute on 2 CPU cores with the bundled SmolLM2-135M: short sequences, few steps, a
    # high learning rate so the loss visibly falls, one eval and one checkpoint halfway.
    "cpu-demo": dict(lora_r=8, lora_alpha=16, lora_dropout=0.0, target_modules=list(ATTENTION_PROJECTIONS),
                     learning_rate=5e-4, lr_scheduler="linear", warmup_steps=2, weight_decay=0.0,
                     batch_size=2, grad_accum=1, max_steps=16, epochs=1.0, seed=3407, loss_on="answer",
                     max_seq_len=128, eval_every=8, eval_examples=8, save_every=8),
}
PRESETS = tuple(LOCAL_PRESETS) + ("custom",)
COMMON_FIELDS = ("backend", "base_model", "data", "format", "template", "preset", "grace_s", "openai")
LOCAL_DEFAULT_MODEL = "smollm2"   # TrainConfig's default base model: never sent to a hosted provider


@dataclass
class TrainConfig(ConfigBase):
    """One training run, any backend."""

    backend: str = option("local", "Where the fine-tune runs: 'local' (LoRA with transformers + peft on this "
                                   "machine), or a hosted fine-tuning job at 'openai', 'together' or 'fireworks'.")
    base_model: str = option("smollm2", "The model to fine-tune: 'smollm2' (the bundled SmolLM2-135M-Instruct), a "
                                        "local model folder, or a Hugging Face id (needs the network or its cache).")
    data: str = option("seed-study", "Training data: a curated dataset (its name, name@vN, or folder from page 1; "
                                     "seed-study is built in) or a training file exported on page 2.")
    format: str = option("chat-template", "How each example becomes text: chat-template (the model's own chat "
                                          "template), openai-chat, alpaca, sharegpt or completion (page 2).")
    template: dict[str, Any] = option({}, "System prompt and user/assistant templates (core.formats.render.TemplateConfig) "
                                          "applied to a curated dataset; empty = the seed study's (title -> content).")
    preset: str = option("custom", "The preset these settings started from (kept for the record).")
    seed: int = option(3407, "Random seed for the LoRA initialisation and the order of the examples.")
    # -- LoRA --------------------------------------------------------------------------------------
    lora_r: int = option(16, "LoRA rank: the size of the low-rank update; larger learns more and costs more.")
    lora_alpha: int = option(16, "LoRA alpha: the update is scaled by alpha / r.")
    lora_dropout: float = option(0.0, "Dropout on the LoRA input while training (0 is fastest).")
    target_modules: list[str] = option(list(ALL_PROJECTIONS), "Layers that get a LoRA update: the attention "
                                       "projections (q, k, v, o) and/or the MLP ones (gate, up, down).")
    # -- schedule ----------------------------------------------------------------------------------
    epochs: float = option(1.0, "Passes over the training examples (used when max steps is 0).")
    max_steps: int = option(60, "Optimizer steps to train; 0 = train for the number of epochs instead.")
    learning_rate: float = option(2e-4, "Peak learning rate of AdamW.")
    lr_scheduler: str = option("linear", "How the learning rate falls after warm-up: linear, cosine or constant.")
    warmup_steps: int = option(5, "Steps over which the learning rate rises from 0 to its peak.")
    weight_decay: float = option(0.01, "AdamW weight decay on the LoRA weights.")
    batch_size: int = option(2, "Examples per forward pass (per GPU).")
    grad_accum: int = option(4, "Forward passes accumulated per optimizer step: step size = batch x accumulation.")
    max_seq_len: int = option(1024, "Longest example in tokens; longer ones are cut at the end. Nothing is padded "
                                    "to this length: batches are packed without padding.")
    loss_on: str = option("answer", "Where the loss is computed: 'answer' (only the assistant's answer, the "
                                    "prompt is context) or 'all' (every token, like the seed study's notebook).")
    max_train_examples: int = option(0, "Use only the first N training examples (0 = all).")
    # -- evaluation and checkpoints ---------------------------------------------------------------
    eval_every: int = option(0, "Compute the loss on the test split every N steps (0 = only at the end, and "
                                "only when the data has a test split).")
    eval_examples: int = option(64, "Test examples used for each evaluation (0 = the whole test split).")
    save_every: int = option(0, "Save a checkpoint (adapter + optimizer) every N steps, so the run can be resumed "
                                "(0 = only when cancelled).")
    merge_adapter: bool = option(False, "Also save the base model with the adapter merged in (merged/), a plain "
                                        "model any tool can load.")
    # -- hardware ----------------------------------------------------------------------------------
    device: str = option("auto", "Where to train: auto picks CUDA, then Apple MPS, then the CPU.")
    precision: str = option("auto", "Number format: auto = bf16 on GPUs that support it (fp16 on others) and on "
                                    "CPUs with native bf16 (AVX512-BF16/AMX), fp32 on other CPUs.")
    load_in_4bit: bool = option(False, "Load the base model in 4 bits (QLoRA); needs a CUDA GPU and bitsandbytes.")
    multi_gpu: bool = option(True, "With several CUDA GPUs, train on all of them (accelerate launch, one process "
                                   "per GPU).")
    hardware: str = option("", "Row of the hardware table (page 2) used for the time and cost estimate when no "
                                "earlier run of this model measured its speed here.")
    price_per_hour: float | None = option(None, "USD per hour of this machine, for the actual cost of a local run "
                                                "(empty = the registry's local price).")
    grace_s: float = option(20.0, "Seconds a cancelled run gets to stop by itself (and save a checkpoint) "
                                  "before its processes are killed.")
    # -- other backends ----------------------------------------------------------------------------
    openai: dict[str, Any] = option({}, "OpenAI settings (model, hyperparameters, suffix, ...: an "
                                        "OpenAITrainConfig as a dict) when the backend is 'openai'.")
    together: dict[str, Any] = option({}, "Together settings (model, n_epochs, learning_rate, lora_rank, suffix, "
                                          "batch_size, from_checkpoint, ...: a TogetherTrainConfig as a dict) when "
                                          "the backend is 'together'; the key comes from TOGETHER_API_KEY.")
    fireworks: dict[str, Any] = option({}, "Fireworks settings (model, account_id, n_epochs, learning_rate, "
                                           "lora_rank, suffix, output_model, warm_start_from, ...: a "
                                           "FireworksTrainConfig as a dict) when the backend is 'fireworks'; the key "
                                           "comes from FIREWORKS_API_KEY.")

    def validate(self) -> None:
        self.check(self.backend in BACKENDS, "backend", f"must be one of {', '.join(BACKENDS)}")
        self.check(bool(str(self.base_model).strip()), "base_model", "must name a model")
        self.check(bool(str(self.data).strip()), "data", "must name a curated dataset or a training file")
        self.check(self.lora_r >= 1, "lora_r", "must be at least 1")
        self.check(self.lora_alpha >= 1, "lora_alpha", "must be at least 1")
        self.check(0 <= self.lora_dropout < 1, "lora_dropout", "must be in [0, 1)")
        self.check(bool(self.target_modules) and all(isinstance(m, str) and m for m in self.target_modules),
                   "target_modules", "must list at least one module name")
        self.check(self.epochs > 0, "epochs", "must be above 0")
        self.check(self.max_steps >= 0, "max_steps", "must be 0 (use epochs) or more")
        self.check(0 < self.learning_rate < 1, "learning_rate", "must be between 0 and 1")
        self.check(self.lr_scheduler in SCHEDULES, "lr_scheduler", f"must be one of {', '.join(SCHEDULES)}")
        self.check(self.warmup_steps >= 0, "warmup_steps", "must be 0 or more")
        self.check(self.weight_decay >= 0, "weight_decay", "must be 0 or more")
        self.check(self.batch_size >= 1, "batch_size", "must be at least 1")
        self.check(self.grad_accum >= 1, "grad_accum", "must be at least 1")
        self.check(16 <= self.max_seq_len <= 131072, "max_seq_len", "must be between 16 and 131072")
        self.check(self.loss_on in LOSS_ON, "loss_on", "must be 'answer' or 'all'")
        for name in ("max_train_examples", "eval_every", "eval_examples", "save_every"):
            self.check(getattr(self, name) >= 0, name, "must be 0 or more")
        self.check(self.device in DEVICES, "device", f"must be one of {', '.join(DEVICES)}")
        self.check(self.precision in PRECISIONS, "precision", f"must be one of {', '.join(PRECISIONS)}")
        self.check(self.price_per_hour is None or self.price_per_hour >= 0, "price_per_hour", "must be 0 or more")
        self.check(self.grace_s >= 0, "grace_s", "must be 0 or more")
        self.check(isinstance(self.template, dict), "template", "must be a mapping")
        for section in HOSTED_BACKENDS:
            self.check(isinstance(getattr(self, section), dict), section, "must be a mapping")
        if self.backend == "openai":
            from core.hosted.openai_finetune import OpenAITrainConfig

            OpenAITrainConfig.from_run_config(self.openai_run_config())  # its own one-sentence errors
        if self.backend in PROVIDER_SECTIONS:
            from core.hosted.common import PROVIDER_FORMATS, PROVIDERS

            takes = PROVIDER_FORMATS[self.backend]
            self.check(self.format in takes, "format",
                       f"must be {' or '.join(takes)} for {PROVIDERS[self.backend].name} (a curated dataset is "
                       "sent as openai-chat)")
            self.hosted_config()  # its own one-sentence errors, naming the field

    # -- building ----------------------------------------------------------------------------------
    @classmethod
    def from_preset(cls, name: str, **overrides: Any) -> TrainConfig:
        """A config from a named preset (``custom`` = the defaults), with fields overridden."""
        if name not in PRESETS:
            raise ConfigError(f"Unknown preset {name!r}: choose one of {', '.join(PRESETS)}.")
        values = {**LOCAL_PRESETS.get(name, {}), **overrides}
        values.setdefault("preset", name)
        return cls.from_dict(values)

    @classmethod
    def from_run_config(cls, data: dict[str, Any]) -> TrainConfig:
        """From a run's config.json, which also holds what the launcher resolved (data_path, ...)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls.from_dict({k: v for k, v in data.items() if k in names})

    def run_record(self) -> dict[str, Any]:
        """What config.json and the database keep: every field for a local run; for a hosted run
        only the fields that mean something there and its own section (a local batch size or seed
        must not leak into the job through the provider config's top-level keys)."""
        data = self.to_dict()
        if self.backend in HOSTED_BACKENDS:
            keep = (set(COMMON_FIELDS) - set(HOSTED_BACKENDS)) | {self.backend}
            data = {k: v for k, v in data.items() if k in keep}
        return data

    def hosted_section(self) -> dict[str, Any]:
        """The hosted backend's settings (``openai``, ``together`` or ``fireworks``); {} for local."""
        return dict(getattr(self, self.backend)) if self.backend in HOSTED_BACKENDS else {}

    def remote_model(self) -> str:
        """The model the run fine-tunes: ``base_model`` for a local run; for a hosted one its section's
        ``model``, else ``base_model`` unless that is the local default, else the provider's default."""
        if self.backend == "local":
            return self.base_model
        model = self.hosted_section().get("model")
        if model:
            return str(model)
        if self.backend in PROVIDER_SECTIONS and self.base_model == LOCAL_DEFAULT_MODEL:
            return str(self._provider_class().model)  # the dataclass default
        return self.base_model

    def _provider_class(self) -> Any:
        if self.backend == "together":
            from core.training.backends.together_backend import TogetherTrainConfig

            return TogetherTrainConfig
        from core.training.backends.fireworks_backend import FireworksTrainConfig

        return FireworksTrainConfig

    def provider_run_config(self) -> dict[str, Any]:
        """What TogetherTrainConfig / FireworksTrainConfig.from_run_config read: the section wins."""
        section = {**self.hosted_section(), "model": self.remote_model()}
        if self.max_train_examples and "max_train_examples" not in section:
            section["max_train_examples"] = self.max_train_examples
        return {"format": self.format, "template": dict(self.template), self.backend: section}

    def hosted_config(self) -> Any:
        """The Together / Fireworks config object of this run (validated: ConfigError names the field)."""
        return self._provider_class().from_run_config(self.provider_run_config())

    def openai_run_config(self) -> dict[str, Any]:
        """What core.hosted.openai_finetune.OpenAITrainConfig.from_run_config reads: the openai section wins."""
        return {"format": self.format, "base_model": self.base_model, "openai": dict(self.openai)}

    def for_launch(self, store: Any) -> TrainConfig:
        """A copy with the prices filled in from the database (the subprocess cannot read it)."""
        config = dataclasses.replace(self, target_modules=list(self.target_modules), template=dict(self.template),
                                     openai=dict(self.openai), together=dict(self.together),
                                     fireworks=dict(self.fireworks))
        if config.backend == "local" and config.price_per_hour is None:
            try:
                from core.models.registry import local_price_per_hour

                config.price_per_hour = local_price_per_hour()
            except ImportError:
                pass
        if config.backend == "openai":
            from core.hosted.openai_finetune import OpenAITrainConfig, fill_prices

            openai_config = fill_prices(OpenAITrainConfig.from_run_config(config.openai_run_config()), store)
            config.openai = {k: v for k, v in openai_config.to_dict().items() if v is not None}
            config.format = openai_config.format
        if config.backend in PROVIDER_SECTIONS:
            hosted = config.hosted_config()
            _fill_hosted_prices(hosted, store, config.backend)
            # the whole resolved section: the subprocess needs no defaults of its own, and the record
            # says exactly what was asked (the training file is the launcher's data_path)
            values = {k: v for k, v in hosted.to_dict().items()
                      if v is not None and k not in ("training_file", "format", "prompt_template")}
            setattr(config, config.backend, values)
            config.base_model = hosted.model
        return config

    def total_examples_per_step(self) -> int:
        return self.batch_size * self.grad_accum


def _fill_hosted_prices(hosted: Any, store: Any, provider: str) -> None:
    """Copy the price table's row for the hosted model into its config (the subprocess has no
    database). A missing row leaves the prices empty: the run then says its actual cost is unknown."""
    if store is None:
        return
    try:
        from core.costs.prices import UnknownPriceError, get_price
    except ImportError:
        return
    try:
        price = get_price(store, hosted.model, provider=provider)
    except UnknownPriceError:
        return
    for ours, theirs in (("price_training_per_m", price.training), ("price_input_per_m", price.input),
                         ("price_output_per_m", price.output)):
        if getattr(hosted, ours) is None:
            setattr(hosted, ours, theirs)
