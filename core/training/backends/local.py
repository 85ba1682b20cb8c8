"""The local backend: LoRA fine-tuning with transformers + peft, in the training subprocess.

    python -m core.training.trainer RUN_DIR        # config.json {"backend": "local", ...} (a TrainConfig)

Efficient by design (bench/bench_training.py measures it against TRL's SFTTrainer):
- no padding: every forward pass is a packed row of whole examples (core/training/backends/local_data.py);
- logits only where there is a target (``logits_to_keep``), cross-entropy summed and divided by
  the step's target tokens, so splitting a step into passes never changes the gradient;
- no gradient checkpointing (LoRA on a frozen base keeps activations small); bf16 autocast on
  GPUs that have it (fp16 otherwise) and on CPUs with native bf16 (AVX512-BF16 / AMX, about twice
  fp32 there), fp32 on other CPUs; 4-bit base on request;
- on a GPU a whole optimizer step goes through in few passes (a token budget), on the CPU one
  packed pass per micro-batch.

Events: status running (device), log lines, metric per step (train_loss, lr, grad_norm) and per
evaluation (eval_loss on the test split), progress, checkpoint, result with the registry entries
of the final adapter and every checkpoint; cancel saves a checkpoint first, resume continues
from the newest one exactly (same data order, optimizer and scheduler state).
Under ``accelerate launch`` (several GPUs) each rank trains on its share of every step (DDP).
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import resource
import shutil
import time
from pathlib import Path
from typing import Any

from core.errors import UserFacingError
from core.training.backends.base import RunContext
from core.training.backends.local_data import (
    TrainingData,
    build_data,
    chunks,
    forward_logits,
    pack,
    step_groups,
    targets,
)
from core.training.config import TrainConfig

GPU_PASS_TOKENS = 8192      # tokens per forward pass on a GPU (whole steps of short examples)
PROGRESS_EVERY_S = 1.0


class LocalTrainingError(UserFacingError):
    """A local run cannot start with these settings (device, 4-bit, LoRA targets)."""


def pick_device(choice: str) -> str:
    import torch

    if choice in ("auto", "cuda") and torch.cuda.is_available():
        return "cuda"
    if choice == "cuda":
        raise LocalTrainingError("No CUDA GPU is available here: choose device auto or cpu.")
    mps = getattr(torch.backends, "mps", None)
    if choice in ("auto", "mps") and mps is not None and mps.is_available():
        return "mps"
    if choice == "mps":
        raise LocalTrainingError("Apple MPS is not available here: choose device auto or cpu.")
    return "cpu"


def cpu_has_native_bf16() -> bool:
    """AVX512-BF16 or AMX: bf16 matrix products run natively (about 2x fp32 on such CPUs)."""
    import torch

    cpu = getattr(torch, "cpu", None)
    try:
        return bool(cpu._is_avx512_bf16_supported() or cpu._is_amx_tile_supported())
    except AttributeError:  # a torch without these probes: stay with fp32
        return False


def pick_precision(choice: str, device: str) -> str:
    import torch

    if choice == "auto":
        if device == "cuda":
            return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        if device == "cpu" and cpu_has_native_bf16():
            return "bf16"
        return "fp32"
    if choice in ("bf16", "fp16") and device == "cpu" and choice == "fp16":
        raise LocalTrainingError("fp16 training is not supported on the CPU: choose fp32 or bf16.")
    return choice


def _dtype(precision: str) -> Any:
    import torch

    return {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision, torch.float32)


def device_label(device: str, precision: str, world: int = 1) -> str:
    """The hardware a run trained on, as stored in its row (estimates match past runs on it)."""
    import torch

    if device == "cuda":
        return f"cuda: {torch.cuda.get_device_name()}" + (f" x{world}" if world > 1 else "") + f", {precision}"
    if device == "cpu":
        return f"cpu: {torch.get_num_threads()} threads, {precision}"
    return f"{device}, {precision}"


class LocalBackend:
    name = "local"

    # -- setup -------------------------------------------------------------------------------------
    def run(self, ctx: RunContext) -> None:
        import torch

        self.ctx = ctx
        self.t0 = time.time()
        self.cfg = TrainConfig.from_run_config(ctx.config)
        self.data_path = Path(ctx.config.get("data_path") or self.cfg.data)
        self.world = int(os.environ.get("WORLD_SIZE", "1") or 1)
        self.rank = int(os.environ.get("RANK", "0") or 0)
        self.main = self.rank == 0
        self.device = pick_device(self.cfg.device)
        self.precision = pick_precision(self.cfg.precision, self.device)
        if self.world > 1:
            torch.distributed.init_process_group("nccl" if self.device == "cuda" else "gloo")
            if self.device == "cuda":
                torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        torch.manual_seed(self.cfg.seed)
        from core.bundled import load_tokenizer

        self._log(f"Loading {self.cfg.base_model} on {self.device} ({self.precision}).")
        self.tokenizer = load_tokenizer(self.cfg.base_model)
        data = build_data(self.cfg, self.data_path, self.tokenizer, with_test=True)
        for note in data.notes:
            self._log(note, "warning")
        self.model = self._model()
        self._train(data)

    def _model(self) -> Any:
        import torch
        from peft import LoraConfig, get_peft_model

        from core.bundled import load_model

        kwargs: dict[str, Any] = {}
        if self.precision in ("bf16", "fp16") and self.device != "cpu":
            kwargs["dtype"] = _dtype(self.precision)
        if self.cfg.load_in_4bit:
            try:
                import bitsandbytes  # noqa: F401
            except ImportError:
                bnb = False
            else:
                bnb = True
            if self.device != "cuda" or not bnb:
                raise LocalTrainingError("4-bit loading needs a CUDA GPU and the bitsandbytes package; turn it off here.")
            from transformers import BitsAndBytesConfig

            kwargs["quantization_config"] = BitsAndBytesConfig(
                load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=_dtype(self.precision))
            kwargs["device_map"] = {"": torch.cuda.current_device()}
        model = load_model(self.cfg.base_model, **kwargs)
        model.config.use_cache = False
        if self.cfg.load_in_4bit:
            from peft import prepare_model_for_kbit_training

            model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
        else:
            model.to(self.device)
        names = {n.rsplit(".", 1)[-1] for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)}
        missing = [m for m in self.cfg.target_modules if m not in names]
        if len(missing) == len(self.cfg.target_modules):
            raise LocalTrainingError(f"None of the LoRA target modules ({', '.join(missing)}) exist in "
                                     f"{self.cfg.base_model}; its linear layers are {', '.join(sorted(names))}.")
        if missing:
            self._log(f"Target modules not in this model, skipped: {', '.join(missing)}.", "warning")
        lora = LoraConfig(r=self.cfg.lora_r, lora_alpha=self.cfg.lora_alpha, lora_dropout=self.cfg.lora_dropout,
                          target_modules=[m for m in self.cfg.target_modules if m in names], task_type="CAUSAL_LM")
        checkpoint = self._checkpoint_to_resume()
        if checkpoint is not None:
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, checkpoint, is_trainable=True)
        else:
            model = get_peft_model(model, lora)
        trainable, total = model.get_nb_trainable_parameters()
        self._log(f"LoRA r={self.cfg.lora_r} on {', '.join(lora.target_modules)}: {trainable:,} trainable "
                  f"parameters of {total:,} ({100 * trainable / total:.2f}%).")
        return model

    def _checkpoint_to_resume(self) -> Path | None:
        if not self.ctx.resume:
            return None
        from core.training.backends.base import latest_checkpoint

        found = latest_checkpoint(self.ctx.run_dir)
        if found is None:
            raise LocalTrainingError("This run saved no checkpoint to resume from.")
        return found

    # -- the loop ----------------------------------------------------------------------------------
    def _train(self, data: TrainingData) -> None:
        import torch
        from transformers import get_scheduler

        cfg, device = self.cfg, self.device
        params = [p for p in self.model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=cfg.weight_decay,
                                      fused=device == "cuda")
        group = cfg.batch_size * cfg.grad_accum * self.world
        n = len(data.train)
        total_steps = cfg.max_steps or max(1, math.ceil(cfg.epochs * n / group))
        scheduler = get_scheduler(cfg.lr_scheduler, optimizer, num_warmup_steps=min(cfg.warmup_steps, total_steps),
                                  num_training_steps=total_steps)
        scaler = torch.amp.GradScaler("cuda") if self.precision == "fp16" and device == "cuda" else None
        state = {"step": 0, "tokens_seen": 0, "train_time": 0.0, "wall_before": 0.0, "losses": [], "evals": []}
        checkpoint = self._checkpoint_to_resume()
        if checkpoint is not None:
            state = self._load_state(checkpoint, optimizer, scheduler, scaler)
            self._emit("resumed", from_step=state["step"], path=str(checkpoint))
            self._log(f"Resumed from {checkpoint.name} (step {state['step']}).")
        model = self.model
        if self.world > 1:
            model = torch.nn.parallel.DistributedDataParallel(
                model, device_ids=[torch.cuda.current_device()] if device == "cuda" else None)
        # GPU: a whole step in as few passes as fit the token budget (fewer, larger kernels); CPU:
        # one pass per micro-batch of batch_size examples (longer packed rows cost more in attention)
        budget = GPU_PASS_TOKENS if device == "cuda" else 0
        autocast = (torch.autocast(device_type=device, dtype=_dtype(self.precision))
                    if self.precision in ("bf16", "fp16") else contextlib.nullcontext())
        self._emit("status", status="running", message=None, device=self._device_name(), total_steps=total_steps)
        self._log(f"{n} training examples ({data.train_tokens():,} tokens, format {data.format}), "
                  f"{len(data.test)} test examples; {total_steps} steps of {group} examples.")
        model.train()
        last_progress, step_times = 0.0, []
        stream = step_groups(n, group, cfg.seed, start_step=state["step"])
        while state["step"] < total_steps:
            if self.ctx.cancel_requested():
                return self._cancel(state, optimizer, scheduler, scaler)
            indices, epoch = next(stream)
            mine = [data.train[i] for i in indices[self.rank::self.world]]
            n_targets = max(1, sum(targets(e, cfg.loss_on) for e in mine))
            started = time.perf_counter()
            loss_sum = torch.zeros((), device=device)
            passes = (chunks(mine, budget) if budget else
                      [mine[i:i + cfg.batch_size] for i in range(0, len(mine), cfg.batch_size)])
            for index, examples in enumerate(passes):
                batch = pack(examples, cfg.loss_on, device)
                sync = (model.no_sync() if self.world > 1 and index < len(passes) - 1 else contextlib.nullcontext())
                with sync, autocast:
                    logits = forward_logits(model, batch)
                loss = torch.nn.functional.cross_entropy(logits.float().view(-1, logits.shape[-1]), batch["labels"],
                                                         reduction="sum")
                with sync:
                    (scaler.scale(loss / n_targets) if scaler else loss / n_targets).backward()
                loss_sum += loss.detach()
                del logits, loss
            if scaler:
                scaler.unscale_(optimizer)
            grad_norm = torch.nn.utils.clip_grad_norm_(params, 1.0)
            if scaler:
                scaler.step(optimizer)
                scaler.update()
            else:
                optimizer.step()
            lr = scheduler.get_last_lr()[0]
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            train_loss = float(loss_sum) / n_targets
            if self.world > 1:
                train_loss = self._mean_across_ranks(train_loss)
            seconds = time.perf_counter() - started
            step_times.append(seconds)
            state["step"] += 1
            state["train_time"] += seconds
            state["tokens_seen"] += sum(len(e.ids) for e in mine) * self.world
            state["losses"].append(train_loss)
            if not math.isfinite(train_loss):
                raise LocalTrainingError(f"The loss became {train_loss} at step {state['step']}: lower the learning "
                                         "rate (or use bf16/fp32 instead of fp16).")
            step = state["step"]
            self._emit("metric", step=step, epoch=round(epoch, 4), tokens_seen=state["tokens_seen"],
                       train_loss=round(train_loss, 5), lr=lr, grad_norm=round(float(grad_norm), 5))
            recent = step_times[-10:]
            eta = (total_steps - step) * sum(recent) / len(recent)
            if time.time() - last_progress >= PROGRESS_EVERY_S or step == total_steps:
                last_progress = time.time()
                self._emit("progress", step=step, total_steps=total_steps, epoch=round(epoch, 4),
                           tokens_seen=state["tokens_seen"], elapsed_s=round(self._wall(state), 1),
                           tokens_per_s=round(state["tokens_seen"] / max(state["train_time"], 1e-9), 1),
                           eta_s=round(eta, 1))
            if data.test and ((cfg.eval_every and step % cfg.eval_every == 0) or step == total_steps):
                self._evaluate(model, data, state, epoch, autocast, budget)
            if cfg.save_every and step % cfg.save_every == 0 and step < total_steps:
                self._save_checkpoint(state, optimizer, scheduler, scaler)
        self._finish(state, data)

    def _evaluate(self, model: Any, data: TrainingData, state: dict[str, Any], epoch: float, autocast: Any,
                  budget: int) -> None:
        import torch

        model.eval()
        total, count = 0.0, 0
        with torch.no_grad():
            for examples in chunks(data.test, budget or 1024):
                batch = pack(examples, self.cfg.loss_on, self.device)
                with autocast:
                    logits = forward_logits(model, batch)
                total += float(torch.nn.functional.cross_entropy(logits.float(), batch["labels"], reduction="sum"))
                count += int(batch["labels"].numel())
        model.train()
        eval_loss = total / max(count, 1)
        state["evals"].append(eval_loss)
        self._emit("metric", step=state["step"], epoch=round(epoch, 4), tokens_seen=state["tokens_seen"],
                   eval_loss=round(eval_loss, 5))

    # -- saving ------------------------------------------------------------------------------------
    def _unwrapped(self) -> Any:
        return self.model  # the peft model (DDP wraps a local copy of the reference only)

    def _save_checkpoint(self, state: dict[str, Any], optimizer: Any, scheduler: Any, scaler: Any) -> Path | None:
        import torch

        if not self.main:
            return None
        folder = self.ctx.run_dir / "checkpoints" / f"step-{state['step']:06d}"
        tmp = folder.with_name(folder.name + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        self._unwrapped().save_pretrained(tmp)
        torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                    "scaler": scaler.state_dict() if scaler else None, "rng": torch.get_rng_state()},
                   tmp / "optimizer.pt")
        (tmp / "trainer_state.json").write_text(json.dumps({**state, "wall_before": self._wall(state)}))
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp, folder)
        # Optimizer state is only needed to resume from the newest checkpoint: keep older ones small.
        for older in folder.parent.glob("step-*"):
            if older != folder:
                (older / "optimizer.pt").unlink(missing_ok=True)
        self._emit("checkpoint", step=state["step"], path=str(folder))
        return folder

    def _load_state(self, folder: Path, optimizer: Any, scheduler: Any, scaler: Any) -> dict[str, Any]:
        import torch

        state = json.loads((folder / "trainer_state.json").read_text())
        saved = folder / "optimizer.pt"
        if saved.exists():
            bundle = torch.load(saved, map_location=self.device, weights_only=False)
            optimizer.load_state_dict(bundle["optimizer"])
            scheduler.load_state_dict(bundle["scheduler"])
            if scaler and bundle.get("scaler"):
                scaler.load_state_dict(bundle["scaler"])
            torch.set_rng_state(bundle["rng"])
        else:
            self._log("The optimizer state of this checkpoint was not kept; it restarts from zero.", "warning")
            for _ in range(int(state["step"])):
                scheduler.step()
        state["wall_before"] = float(state.get("wall_before") or 0.0)
        return state

    def _cancel(self, state: dict[str, Any], optimizer: Any, scheduler: Any, scaler: Any) -> None:
        saved = self._save_checkpoint(state, optimizer, scheduler, scaler) if state["step"] else None
        where = f"; checkpoint step {state['step']} saved, resume continues from it" if saved else ""
        self._emit("result", **self._figures(state, None))
        self._emit("status", status="cancelled", message=f"Cancelled by the user at step {state['step']}{where}.")

    def _finish(self, state: dict[str, Any], data: TrainingData) -> None:
        if not self.main:
            return
        adapter = self.ctx.run_dir / "adapter"
        tmp = adapter.with_name("adapter.partial")
        shutil.rmtree(tmp, ignore_errors=True)
        model = self._unwrapped()
        model.save_pretrained(tmp)
        self.tokenizer.save_pretrained(tmp)
        (tmp / "training_config.json").write_text(json.dumps(self.ctx.config, indent=2, default=str))
        shutil.rmtree(adapter, ignore_errors=True)
        os.replace(tmp, adapter)
        if self.cfg.merge_adapter:
            self._log("Merging the adapter into the base model (merged/).")
            merged = model.merge_and_unload()
            merged.save_pretrained(self.ctx.run_dir / "merged")
            self.tokenizer.save_pretrained(self.ctx.run_dir / "merged")
        for folder in sorted((self.ctx.run_dir / "checkpoints").glob("step-*")):
            if (folder / "trainer_state.json").exists():
                step = int(folder.name.split("-")[1])
                self._emit("log", level="info", message=f"Checkpoint of step {step} registered as a model.",
                           register_model=self._model_entry(folder, step))
        self._emit("result", **self._figures(state, adapter))
        self._emit("status", status="succeeded", message=None)

    def _model_entry(self, adapter: Path, step: int | None = None) -> dict[str, Any]:
        return {"kind": "local-finetune", "run_id": self.ctx.run_id, "base_model": self.cfg.base_model,
                "adapter_path": str(adapter), "step": step, "price_per_hour": self.cfg.price_per_hour,
                "prompt_template": self.cfg.template or None}

    def _figures(self, state: dict[str, Any], adapter: Path | None) -> dict[str, Any]:
        import torch

        wall = self._wall(state)
        losses, evals = state["losses"], state["evals"]
        price = self.cfg.price_per_hour
        figures = {
            "trained_tokens": state["tokens_seen"], "wall_s": round(wall, 2), "train_s": round(state["train_time"], 2),
            "tokens_per_s": round(state["tokens_seen"] / max(state["train_time"], 1e-9), 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "peak_gpu_mb": round(torch.cuda.max_memory_allocated() / 2**20, 1) if self.device == "cuda" else None,
            "final_loss": losses[-1] if losses else None,
            "best_loss": min(evals) if evals else (min(losses) if losses else None),
            "final_eval_loss": evals[-1] if evals else None, "steps": state["step"], "device": self._device_name(),
            "actual_cost_usd": round(wall / 3600 * price, 6) if price is not None else None,
        }
        if adapter is not None:
            figures["adapter_path"] = str(adapter)
            figures["register_model"] = self._model_entry(adapter)
        return figures

    # -- helpers -----------------------------------------------------------------------------------
    def _wall(self, state: dict[str, Any]) -> float:
        return float(state.get("wall_before") or 0.0) + (time.time() - self.t0)

    def _device_name(self) -> str:
        return device_label(self.device, self.precision, self.world)

    def _mean_across_ranks(self, value: float) -> float:
        import torch

        tensor = torch.tensor([value], device=self.device)
        torch.distributed.all_reduce(tensor)
        return float(tensor) / self.world

    def _emit(self, type_: str, **fields: Any) -> None:
        if self.main:
            self.ctx.events.emit(type_, **fields)

    def _log(self, message: str, level: str = "info") -> None:
        self._emit("log", level=level, message=message)
