"""Generation for every model kind in the registry: streamed one answer at a time, or in batches.

Local models (the bundled SmolLM2, any transformers folder, a LoRA fine-tune = base + peft adapter)
run in this process with transformers; each is loaded once per process and kept in a small cache.
Batches are padded on the LEFT (and the attention mask drives the positions), so a greedy answer
in a batch is the same text as the answer generated alone; the prefix every prompt of a batch shares
(the chat template's system turn) is computed once and its KV cache reused by every row. Remote models (OpenAI, OpenAI
fine-tunes, any OpenAI-compatible endpoint) are answered by core/models/generate_remote.py through
core/hosted/openai_chat.py, with a few requests in flight at once and backoff on rate limits.

Configuration mistakes (unknown model, bad settings) raise a UserFacingError; a generation that
fails at run time (network, API error) comes back as an ``Answer`` with ``error`` set, so one bad
request never loses a whole batch.

    settings = GenerationSettings(max_new_tokens=64)
    for item in stream_answer(store, "local:smollm2", "The Hobbit", settings):
        print(item, end="") if isinstance(item, str) else print("\\n", item.total_s, item.cost_usd)
    answers = generate_batch(store, "local:smollm2", titles, settings, batch_size=32)
"""
from __future__ import annotations

import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.models.answers import Answer, GenerationSettings
from core.models.registry import LOCAL_KINDS, answer_cost, get_registered

if TYPE_CHECKING:
    from core.store import Store

MAX_CACHED_MODELS = 4  # local models kept in memory at once (SmolLM2 fp32 is ~0.55 GB)
MIN_SHARED_PREFIX = 8  # tokens: a shorter common prefix is not worth its extra forward pass


# -- local models ----------------------------------------------------------------------------------
@dataclass
class LocalModel:
    model: Any
    tokenizer: Any
    device: str
    eos_ids: list[int]
    pad_id: int


_cache: OrderedDict[tuple[str, str | None], LocalModel] = OrderedDict()
_cache_lock = threading.Lock()
_load_locks: dict[tuple[str, str | None], threading.Lock] = {}


def _device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _load(base: str, adapter: str | None) -> LocalModel:
    from core.bundled import LOAD_LOCK

    with LOAD_LOCK:  # two columns loading at once gave meta-tensor errors: transformers' loading is not thread-safe
        return _load_unlocked(base, adapter)


def _load_unlocked(base: str, adapter: str | None) -> LocalModel:
    from core.bundled import load_model, load_tokenizer

    tokenizer = load_tokenizer(base)
    tokenizer.padding_side = "left"  # decoder-only batches: pad on the left so every row ends at "now"
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    device = _device()
    model = load_model(base)
    if adapter:
        from peft import PeftModel

        from core.bundled import ModelNotFoundError

        try:
            # Merged into the weights: as fast as the base model, and this copy is ours alone.
            model = PeftModel.from_pretrained(model, adapter).merge_and_unload()
        except (OSError, ValueError) as exc:
            raise ModelNotFoundError(f"The adapter folder {adapter} could not be loaded ({type(exc).__name__}).") from None
    model.to(device).eval()
    eos = model.generation_config.eos_token_id
    eos_ids = [eos] if isinstance(eos, int) else list(eos or [])
    if tokenizer.eos_token_id is not None and tokenizer.eos_token_id not in eos_ids:
        eos_ids.append(tokenizer.eos_token_id)
    return LocalModel(model, tokenizer, device, eos_ids, int(tokenizer.pad_token_id))


def load_local(model: dict[str, Any]) -> LocalModel:
    """The loaded model of a registry row (cached per process: a base loads once)."""
    key = (model.get("base_model") or "smollm2", model.get("adapter_path") or None)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
        lock = _load_locks.setdefault(key, threading.Lock())
    with lock:  # two columns asking for the same model load it once
        with _cache_lock:
            if key in _cache:
                return _cache[key]
        loaded = _load(*key)
        with _cache_lock:
            _cache[key] = loaded
            while len(_cache) > MAX_CACHED_MODELS:
                _cache.popitem(last=False)
        return loaded


def clear_model_cache() -> None:
    with _cache_lock:
        _cache.clear()


def prompt_text(tokenizer: Any, prompt: str, settings: GenerationSettings) -> str:
    """The exact text the model sees: its chat template when it has one, plain text otherwise."""
    messages = settings.messages(prompt)
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return "\n\n".join(m["content"] for m in messages) + "\n\n"


class _FirstToken:
    """A stopping criterion that never stops generation by itself: it notes when the first token
    came out (generate calls it after every step) and stops early when the reader went away."""

    def __init__(self, cancel: threading.Event | None = None) -> None:
        self.at: float | None = None
        self.cancel = cancel

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        if self.at is None:
            self.at = time.perf_counter()
        stop = self.cancel is not None and self.cancel.is_set()
        return torch.full((input_ids.shape[0],), stop, dtype=torch.bool, device=input_ids.device)


def _generate_kwargs(local: LocalModel, settings: GenerationSettings, criterion: _FirstToken) -> dict[str, Any]:
    from transformers import StoppingCriteriaList

    sampling = settings.temperature > 0
    kwargs: dict[str, Any] = {
        "max_new_tokens": settings.max_new_tokens, "do_sample": sampling,
        "eos_token_id": local.eos_ids, "pad_token_id": local.pad_id,
        "stopping_criteria": StoppingCriteriaList([criterion]),
        # Only what our settings say: no top_k or repetition penalty from the model's defaults.
        "top_k": None, "temperature": settings.temperature if sampling else None,
        "top_p": settings.top_p if sampling else None,
    }
    if sampling:
        import torch

        torch.manual_seed(settings.seed)
    return kwargs


def _cut(local: LocalModel, ids: Any) -> tuple[str, int]:
    """The answer text and its token count: generated ids up to the first end-of-sequence token."""
    tokens = ids.tolist()
    end = next((i for i, t in enumerate(tokens) if t in local.eos_ids), len(tokens))
    return local.tokenizer.decode(tokens[:end], skip_special_tokens=True).strip(), end


def _stream_local(model: dict[str, Any], prompt: str, settings: GenerationSettings) -> Iterator[str | Answer]:
    from core.bundled import LOAD_LOCK

    # transformers resolves its top-level names lazily, and two playground columns importing at once
    # in a fresh process raced ("cannot import name 'TextIteratorStreamer'"): import under the lock.
    with LOAD_LOCK:
        from transformers import TextIteratorStreamer

    local = load_local(model)
    start = time.perf_counter()
    inputs = local.tokenizer([prompt_text(local.tokenizer, prompt, settings)], return_tensors="pt",
                             add_special_tokens=False).to(local.device)
    cancel = threading.Event()
    criterion = _FirstToken(cancel)
    streamer = TextIteratorStreamer(local.tokenizer, skip_prompt=True, skip_special_tokens=True)
    result: dict[str, Any] = {}

    def work() -> None:
        import torch

        try:
            with torch.inference_mode():
                result["ids"] = local.model.generate(**inputs, streamer=streamer,
                                                     **_generate_kwargs(local, settings, criterion))
        except Exception as exc:  # shown in the Answer; the reader must not wait forever
            result["error"] = f"{type(exc).__name__}: {exc}"
            streamer.on_finalized_text("", stream_end=True)

    worker = threading.Thread(target=work, daemon=True, name=f"generate-{model['id']}")
    worker.start()
    try:
        for chunk in streamer:
            if chunk:
                yield chunk
        worker.join()
    finally:
        cancel.set()  # the reader stopped early (page rerun): let generate stop at its next step
    total = time.perf_counter() - start
    n_in = int(inputs["input_ids"].shape[1])
    text, n_out = _cut(local, result["ids"][0, n_in:]) if "ids" in result else ("", 0)
    yield Answer(model["id"], prompt, text, None if criterion.at is None else criterion.at - start, total,
                 n_in, n_out, answer_cost(model, n_in, n_out, total), result.get("error"))


def _shared_prefix(rows: Sequence[list[int]]) -> int:
    """Tokens every prompt of a batch starts with (the chat template's system turn, a fine-tune's
    system prompt); each row keeps at least one token of its own for generate to start from."""
    limit = min(len(r) for r in rows) - 1
    n = 0
    while n < limit and all(r[n] == rows[0][n] for r in rows):
        n += 1
    return n


def _batch_inputs(local: LocalModel, rows: Sequence[list[int]]) -> dict[str, Any]:
    """Padded batch tensors. The shared prefix (when long enough) is run once and its KV cache copied
    to every row; then the layout is [prefix | pads | own tokens], else [pads | tokens] (left padding).
    Either way pads sit before each row's own tokens and positions come from the mask, so every row
    sees exactly what it would see alone, and greedy answers stay identical to one-at-a-time ones."""
    import torch

    shared = _shared_prefix(rows) if len(rows) > 1 else 0
    shared = shared if shared >= MIN_SHARED_PREFIX else 0
    width = max(len(r) for r in rows) - shared
    ids = [r[:shared] + [local.pad_id] * (width - len(r) + shared) + r[shared:] for r in rows]
    mask = [[1] * shared + [0] * (width - len(r) + shared) + [1] * (len(r) - shared) for r in rows]
    inputs: dict[str, Any] = {"input_ids": torch.tensor(ids, device=local.device),
                              "attention_mask": torch.tensor(mask, device=local.device)}
    if shared:
        out = local.model(input_ids=inputs["input_ids"][:1, :shared], use_cache=True, logits_to_keep=1)
        cache = out.past_key_values
        cache.batch_repeat_interleave(len(rows))
        inputs["past_key_values"] = cache
    return inputs


def _batch_local(model: dict[str, Any], prompts: Sequence[str], settings: GenerationSettings, batch_size: int,
                 on_progress: Callable[[int, int], None] | None) -> list[Answer]:
    import torch

    local = load_local(model)
    texts = [prompt_text(local.tokenizer, p, settings) for p in prompts]
    token_rows = local.tokenizer(texts, add_special_tokens=False)["input_ids"]
    # Longest first: similar lengths share a batch (little padding), and memory peaks at the start.
    order = sorted(range(len(prompts)), key=lambda i: -len(token_rows[i]))
    answers: list[Answer | None] = [None] * len(prompts)
    done = 0
    for begin in range(0, len(order), batch_size):
        chunk = order[begin:begin + batch_size]
        start = time.perf_counter()
        criterion = _FirstToken()
        with torch.inference_mode():
            inputs = _batch_inputs(local, [token_rows[i] for i in chunk])
            out = local.model.generate(**inputs, **_generate_kwargs(local, settings, criterion))
        wall = time.perf_counter() - start
        share = wall / len(chunk)
        first = None if criterion.at is None else criterion.at - start
        width = inputs["input_ids"].shape[1]
        for row, i in enumerate(chunk):
            text, n_out = _cut(local, out[row, width:])
            n_in = len(token_rows[i])
            answers[i] = Answer(model["id"], prompts[i], text, first, share, n_in, n_out,
                                answer_cost(model, n_in, n_out, share))
        done += len(chunk)
        if on_progress:
            on_progress(done, len(prompts))
    return [a for a in answers if a is not None]


# -- public API ------------------------------------------------------------------------------------
def stream_answer(store: Store, model_id: str, prompt: str, settings: GenerationSettings | None = None, *,
                  api_key: str | None = None) -> Iterator[str | Answer]:
    """Yield the answer of ``model_id`` to ``prompt`` as text chunks, then one final ``Answer``.
    ``api_key`` (OpenAI models only) overrides OPENAI_API_KEY, e.g. from the page's password field."""
    settings = settings or GenerationSettings()
    model = get_registered(store, model_id)
    if model["kind"] in LOCAL_KINDS:
        yield from _stream_local(model, prompt, settings)
    else:
        from core.models.generate_remote import stream_remote

        yield from stream_remote(model, prompt, settings, api_key)


def generate_batch(store: Store, model_id: str, prompts: Sequence[str], settings: GenerationSettings | None = None,
                   batch_size: int = 32, on_progress: Callable[[int, int], None] | None = None, *,
                   api_key: str | None = None) -> list[Answer]:
    """Answers to all ``prompts`` in order: real batches for local models (left padding, greedy
    answers equal to one-at-a-time ones), a few concurrent requests with backoff for remote ones.
    ``on_progress(done, total)`` is called as answers complete."""
    settings = settings or GenerationSettings()
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    model = get_registered(store, model_id)
    if not prompts:
        return []
    if model["kind"] in LOCAL_KINDS:
        return _batch_local(model, prompts, settings, batch_size, on_progress)
    from core.models.generate_remote import batch_remote

    return batch_remote(model, prompts, settings, on_progress, api_key)


def stream_many(store: Store, jobs: Sequence[tuple[str, GenerationSettings]], prompt: str, *,
                api_key: str | None = None) -> Iterator[tuple[int, str | Answer]]:
    """Several models on one prompt at once (the playground's columns): yields ``(job index, chunk
    or Answer)`` as they arrive. Each job streams in its own thread; errors become Answers."""
    for model_id, _ in jobs:
        get_registered(store, model_id)  # unknown ids fail now, in one sentence
    events: queue.Queue[tuple[int, str | Answer | None]] = queue.Queue()
    stop = threading.Event()

    def run(index: int, model_id: str, settings: GenerationSettings) -> None:
        try:
            for item in stream_answer(store, model_id, prompt, settings, api_key=api_key):
                if stop.is_set():
                    return
                events.put((index, item))
        except Exception as exc:  # a model that cannot load must not hide the other columns
            events.put((index, Answer(model_id, prompt, "", error=str(exc) or type(exc).__name__)))
        finally:
            events.put((index, None))

    threads = [threading.Thread(target=run, args=(i, m, s), daemon=True, name=f"stream-{i}")
               for i, (m, s) in enumerate(jobs)]
    for thread in threads:
        thread.start()
    running = len(threads)
    try:
        while running:
            index, item = events.get()
            if item is None:
                running -= 1
            else:
                yield index, item
    finally:
        stop.set()


def record_answer(store: Store, answer: Answer, settings: GenerationSettings, *, source: str = "playground",
                  curated_source: str | None = None, curated_version: str | None = None,
                  example_index: int | None = None, reference: str | None = None) -> int:
    """Store one generation (model, prompt, settings, answer, timings, tokens, cost); returns its id."""
    from core.store.compare import insert_generation

    return insert_generation(store, answer=answer.to_dict(), settings_json=settings.to_json(), source=source,
                             curated_source=curated_source, curated_version=curated_version,
                             example_index=example_index, reference=reference)
