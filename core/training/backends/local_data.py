"""Training examples for the local backend: curated rows or an exported file -> token ids with the
prompt/answer boundary -> packed forward passes with no padding at all.

The text of each example is what core/formats/render.py defines for the chosen format: conversational
formats (chat-template, openai-chat, sharegpt) go through the base model's own chat template;
alpaca and completion are plain text (plus the end-of-sequence token, so the model learns to
stop). Nothing is padded: the examples of one forward pass are laid end to end in a single row
whose position ids restart at every example, which transformers turns into a block-diagonal
causal mask (one example never sees another); a pass holding a single example needs no mask.
Logits are computed only at the positions that have a target (``logits_to_keep``), so with the
loss on the answer the prompt never goes through the vocabulary projection.

    data = build_data(config, Path("dados/seed"), tokenizer)
    for step_examples in step_groups(len(data.train), group=8, seed=3407, start_step=0): ...
    batch = pack([data.train[i] for i in chunk], loss_on="answer")
"""
from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import UserFacingError

if TYPE_CHECKING:
    import torch

    from core.training.config import TrainConfig

CONVERSATIONAL = ("chat-template", "openai-chat", "sharegpt")


class TrainingDataError(UserFacingError):
    """The training data cannot be turned into examples (empty, wrong shape, too long)."""


@dataclass
class Example:
    ids: list[int]
    n_prompt: int          # tokens before the answer: no loss there when the loss is on the answer


@dataclass
class TrainingData:
    train: list[Example]
    test: list[Example]
    format: str
    truncated: int = 0
    dropped: int = 0
    notes: list[str] = field(default_factory=list)

    def train_tokens(self) -> int:
        return sum(len(e.ids) for e in self.train)


# -- records -------------------------------------------------------------------------------------
def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    from core.data.jsonl import read_records

    return read_records(path, TrainingDataError)  # bounded lines, one-sentence errors


def load_records(config: TrainConfig, data_path: Path, split: str) -> tuple[list[dict[str, Any]], str]:
    """Records of one split in their format, and that format. A curated folder is formatted with
    the config's template; an exported file is read as it is (its manifest says its format)."""
    from core.formats import render as formats
    from core.formats.export import read_export_manifest
    if data_path.is_dir():
        from core.data.curated import read_split

        if not (data_path / f"{split}.jsonl").exists():
            return [], config.format
        rows = read_split(data_path, split)
        if config.max_train_examples and split == "train":
            rows = rows[: config.max_train_examples]
        template = formats.TemplateConfig.from_dict(config.template) if config.template else None
        # Conversations are kept as messages: the chat template is applied below with the base
        # model's own tokenizer (for chat-template exactly what formats' export holds as text).
        fmt = "openai-chat" if config.format in ("openai-chat", "sharegpt") else config.format
        return formats.to_records(rows, "openai-chat" if fmt in CONVERSATIONAL else fmt, template), fmt
    if split != "train":
        sibling = data_path.with_name(data_path.name.replace("_train", "_test"))
        if sibling == data_path or not sibling.is_file():
            return [], config.format
        data_path = sibling
    fmt = str(read_export_manifest(data_path).get("format") or config.format)
    formats.check_format(fmt)
    records = _read_jsonl(data_path)
    if config.max_train_examples and split == "train":
        records = records[: config.max_train_examples]
    marker = read_export_manifest(data_path).get("response_template")
    if fmt == "chat-template" and isinstance(marker, str) and marker:
        # the marker of the tokenizer that wrote the file (the trainer's may differ); exports
        # written before the text-only layout carry their own "prompt" and keep it
        for index, record in enumerate(records):
            split = formats.split_chat_text(str(record.get("text", "")), marker) if "prompt" not in record else None
            if split is not None:
                records[index] = {**record, "prompt": split[0]}
    return records, fmt


def split_text(record: dict[str, Any], fmt: str, tokenizer: Any) -> tuple[str, str]:
    """(prompt, answer) texts of one record as the model reads them."""
    from core.formats import render as formats
    try:
        if fmt in ("openai-chat", "sharegpt"):
            messages = formats.record_messages(record, fmt)
            if not messages or messages[-1].get("role") != "assistant":
                raise TrainingDataError("An example does not end with an assistant answer.")
            if not getattr(tokenizer, "chat_template", None):
                raise TrainingDataError("The base model's tokenizer has no chat template; use the alpaca or "
                                        "completion format for it.")
            prompt = tokenizer.apply_chat_template(messages[:-1], tokenize=False, add_generation_prompt=True)
            full = tokenizer.apply_chat_template(messages, tokenize=False)
            if full.startswith(prompt):
                return prompt, full[len(prompt):]
            answer = messages[-1]["content"]
            cut = full.rfind(answer)
            return full[:cut], full[cut:]
        if fmt == "chat-template":
            if "messages" in record:  # a curated row, rendered as page 2 exports it, with this tokenizer
                text, prompt = formats.chat_template_texts(record["messages"], tokenizer)
            else:
                text, prompt = str(record["text"]), str(record.get("prompt") or "") or None
            if prompt and text.startswith(prompt):
                return prompt, text[len(prompt):]
            marker = formats.response_template(tokenizer)
            split = formats.split_chat_text(text, marker)
            if split is None:
                raise TrainingDataError(
                    f"An example of the chat-template format has no {marker or 'assistant turn marker'!r} where its "
                    "answer starts: export the file again (page 2) for this base model.")
            return split
        text = formats.render_text(record, fmt)
        answer = formats.answer_of(record, fmt)
        cut = text.rfind(answer) if answer else -1
        if cut < 0:
            raise TrainingDataError(f"An example of the {fmt} format has no answer.")
        return text[:cut], text[cut:] + (tokenizer.eos_token or "")
    except (KeyError, TypeError, AttributeError) as exc:
        raise TrainingDataError(f"A record does not have the shape of the {fmt} format (missing {exc}); "
                                "pick the format the file was exported in.") from None


def _encode(tokenizer: Any, texts: Sequence[str]) -> list[list[int]]:
    if not texts:
        return []
    return [list(ids) for ids in tokenizer(list(texts), add_special_tokens=False)["input_ids"]]


def encode(records: Sequence[dict[str, Any]], fmt: str, tokenizer: Any, max_len: int,
           loss_on: str) -> tuple[list[Example], int, int]:
    """Examples (prompt and answer tokenized apart, so the boundary is exact), the number cut at
    ``max_len``, and the number dropped because no answer token was left."""
    pairs = [split_text(r, fmt, tokenizer) for r in records]
    prompts = _encode(tokenizer, [p for p, _ in pairs])
    answers = _encode(tokenizer, [a for _, a in pairs])
    examples, truncated, dropped = [], 0, 0
    for p, a in zip(prompts, answers):
        ids = (p + a)
        if len(ids) > max_len:
            ids, truncated = ids[:max_len], truncated + 1
        n_prompt = min(len(p), len(ids))
        if len(ids) < 2 or (loss_on == "answer" and n_prompt >= len(ids)):
            dropped += 1
            continue
        examples.append(Example(ids, n_prompt))
    return examples, truncated, dropped


def build_data(config: TrainConfig, data_path: Path, tokenizer: Any, with_test: bool = True) -> TrainingData:
    records, fmt = load_records(config, data_path, "train")
    if not records:
        raise TrainingDataError(f"{data_path} holds no training examples.")
    train, truncated, dropped = encode(records, fmt, tokenizer, config.max_seq_len, config.loss_on)
    if not train:
        raise TrainingDataError(f"No training example keeps an answer within max_seq_len={config.max_seq_len} "
                                "tokens: raise the maximum sequence length.")
    test: list[Example] = []
    no_test_rows = False
    if with_test:
        test_records, test_fmt = load_records(config, data_path, "test")
        if config.eval_examples:
            test_records = test_records[: config.eval_examples]
        test, _, _ = encode(test_records, test_fmt, tokenizer, config.max_seq_len, config.loss_on)
        no_test_rows = not test_records
    data = TrainingData(train, test, fmt, truncated, dropped)
    if truncated:
        data.notes.append(f"{truncated} training examples were cut at {config.max_seq_len} tokens.")
    if no_test_rows:  # a split saved without test rows on purpose: train, but say what is missing
        data.notes.append("No test rows: the eval loss is not computed (save the curated dataset with test rows "
                          "on page 1, Dados, to have it).")
    if dropped:
        data.notes.append(f"{dropped} training examples were left out: no answer token fits in "
                          f"{config.max_seq_len} tokens.")
    return data


# -- order and packing ---------------------------------------------------------------------------
def step_groups(n: int, group: int, seed: int, start_step: int = 0) -> Iterator[tuple[list[int], float]]:
    """Example indices of each optimizer step (``group`` = batch x accumulation x ranks) and the
    epochs done after it. The stream is the concatenation of one shuffled order per epoch, so a
    resumed run continues exactly where it stopped."""
    consumed = start_step * group
    epoch = consumed // n
    order: list[int] = []
    position = consumed - epoch * n
    while True:
        if not order:
            order = list(range(n))
            random.Random(seed + epoch).shuffle(order)
        take: list[int] = []
        while len(take) < group:
            room = n - position
            need = group - len(take)
            take.extend(order[position:position + min(room, need)])
            position += min(room, need)
            if position >= n:
                epoch, position = epoch + 1, 0
                order = list(range(n))
                random.Random(seed + epoch).shuffle(order)
        consumed += group
        yield take, consumed / n


def chunks(examples: Sequence[Example], token_budget: int) -> list[list[Example]]:
    """Forward passes for one step: examples in order, each pass up to ``token_budget`` tokens
    (at least one example). The loss is normalised over the whole step, so how a step is cut into
    passes changes speed and memory, never the gradient."""
    passes: list[list[Example]] = []
    current: list[Example] = []
    size = 0
    for example in examples:
        if current and size + len(example.ids) > token_budget:
            passes.append(current)
            current, size = [], 0
        current.append(example)
        size += len(example.ids)
    if current:
        passes.append(current)
    return passes


def targets(example: Example, loss_on: str) -> int:
    """Tokens of ``example`` the loss is computed on."""
    first = 1 if loss_on == "all" else max(example.n_prompt, 1)
    return len(example.ids) - first


def pack(examples: Sequence[Example], loss_on: str, device: Any = "cpu") -> dict[str, torch.Tensor]:
    """One padding-free row: input_ids and position_ids (1, T), the bool mask of positions whose
    next token is a target (1, T), and those targets (n,)."""
    import torch

    ids: list[int] = []
    positions: list[int] = []
    keep: list[bool] = []
    labels: list[int] = []
    for example in examples:
        first = 1 if loss_on == "all" else max(example.n_prompt, 1)  # first token that is a target
        n = len(example.ids)
        ids.extend(example.ids)
        positions.extend(range(n))
        keep.extend(j + 1 >= first and j + 1 < n for j in range(n))
        labels.extend(example.ids[first:])
    return {
        "input_ids": torch.tensor([ids], dtype=torch.long, device=device),
        "position_ids": torch.tensor([positions], dtype=torch.long, device=device),
        "keep": torch.tensor([keep], dtype=torch.bool, device=device),
        "labels": torch.tensor(labels, dtype=torch.long, device=device),
    }


def forward_logits(model: Any, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Logits (n_targets, vocab) of a packed row. ``use_cache=False`` is essential, not a detail:
    with a cache transformers skips the packed-sequence detection and the examples of the row
    would attend to each other."""
    return model(input_ids=batch["input_ids"], position_ids=batch["position_ids"], logits_to_keep=batch["keep"],
                 use_cache=False).logits
