"""Checking a training file before anyone pays for it: the OpenAI cookbook's checks for chat files,
schema checks for the other formats; every problem with its line number.

openai-chat (OpenAI cookbook "Data preparation and analysis for chat model fine-tuning"):
  data_type, missing_messages_list, message_missing_key, message_unrecognized_key,
  unrecognized_role, missing_content, example_missing_assistant_message, too_few_examples (< 10),
  too_long (over the model's per-example limit: truncated in training), plus invalid_json,
  bad_weight and blank_line.
alpaca / sharegpt / chat-template / completion: invalid_json, data_type, missing_field,
  wrong_type, unknown_key, empty_answer, unrecognized_role (sharegpt), example_missing_assistant_message,
  prompt_column (chat-template: an old export's 'prompt' column, which TRL misreads).

    report = validate_file("dados/seed/trn_gpt4_formatted.jsonl", "openai-chat")
    report.ok, report.counts, print(report.summary())
    python -m core validate FILE --format openai-chat [--model gpt-4o-mini-2024-07-18]
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.data.jsonl import MAX_LINE_BYTES, numbered_lines
from core.errors import UserFacingError
from core.formats.render import check_format

MIN_EXAMPLES = 10
MESSAGE_KEYS = ("role", "content", "name", "function_call", "weight")
CHAT_ROLES = ("system", "user", "assistant", "function")
SHAREGPT_ROLES = ("system", "human", "gpt")
DEFAULT_OPENAI_MODEL = "gpt-4o-mini-2024-07-18"
# Required (name, type) fields and optional ones per non-chat format.
SCHEMAS: dict[str, tuple[dict[str, type], dict[str, type]]] = {
    "alpaca": ({"instruction": str, "output": str}, {"input": str, "system": str, "history": list}),
    "sharegpt": ({"conversations": list}, {"system": str, "tools": str}),
    "chat-template": ({"text": str}, {"prompt": str}),
    "completion": ({"prompt": str, "completion": str}, {}),
}


class ValidationInputError(UserFacingError):
    """The file to validate cannot be read at all."""


@dataclass
class Problem:
    line: int            # 1-based line of the file (0: the file as a whole)
    code: str
    message: str
    severity: str = "error"  # error | warning

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "file"
        return f"{self.severity}: {where}: [{self.code}] {self.message}"


@dataclass
class ValidationReport:
    path: str
    fmt: str
    model: str | None = None
    n_examples: int = 0
    problems: list[Problem] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def counts(self) -> dict[str, int]:
        """Problems per code."""
        return dict(Counter(p.code for p in self.problems))

    def add(self, line: int, code: str, message: str, severity: str = "error") -> None:
        self.problems.append(Problem(line, code, message, severity))

    def summary(self, limit: int = 50) -> str:
        head = (f"{self.path}: {self.n_examples} examples, format {self.fmt}"
                + (f", model {self.model}" if self.model else "")
                + f": {'OK' if self.ok else 'FAILED'} ({len(self.errors)} errors, {len(self.warnings)} warnings)")
        lines = [head]
        lines += [f"  {code}: {n}" for code, n in sorted(self.counts.items())]
        lines += [f"  {key}: {value}" for key, value in self.stats.items()]
        lines += [str(p) for p in self.problems[:limit]]
        if len(self.problems) > limit:
            lines.append(f"... and {len(self.problems) - limit} more problems")
        return "\n".join(lines)

    def as_rows(self) -> list[dict[str, Any]]:
        return [{"line": p.line, "severity": p.severity, "code": p.code, "message": p.message} for p in self.problems]


def _check_chat(report: ValidationReport, line: int, example: Any) -> list[dict[str, Any]] | None:
    """The cookbook's format checks for one example; its messages if they are countable."""
    if not isinstance(example, dict):
        report.add(line, "data_type", f"each example must be a JSON object, not {type(example).__name__}")
        return None
    messages = example.get("messages")
    if not messages or not isinstance(messages, list):
        report.add(line, "missing_messages_list", "the example has no non-empty 'messages' list")
        return None
    unknown_top = sorted(set(example) - {"messages", "tools", "functions", "parallel_tool_calls"})
    if unknown_top:
        report.add(line, "unknown_key", f"unknown example keys: {', '.join(unknown_top)}", "warning")
    countable = True
    for index, message in enumerate(messages, start=1):
        if not isinstance(message, dict):
            report.add(line, "data_type", f"message {index} must be a JSON object")
            countable = False
            continue
        # One problem per cause: a missing key is not also reported as a bad role or empty content.
        has_call = bool(message.get("function_call"))
        missing = [k for k in ("role", "content") if k not in message and not (k == "content" and has_call)]
        if missing:
            report.add(line, "message_missing_key", f"message {index} lacks {' and '.join(repr(k) for k in missing)}")
        unknown = sorted(set(message) - set(MESSAGE_KEYS))
        if unknown:
            report.add(line, "message_unrecognized_key", f"message {index} has unknown keys: {', '.join(unknown)}")
        if "role" in message and message["role"] not in CHAT_ROLES:
            report.add(line, "unrecognized_role",
                       f"message {index} has role {message['role']!r}; allowed: {', '.join(CHAT_ROLES)}")
        content = message.get("content")
        if "content" in message and not has_call and (not isinstance(content, str) or not content.strip()):
            report.add(line, "missing_content", f"message {index} has no text content")
        if "weight" in message and message["weight"] not in (0, 1):
            report.add(line, "bad_weight", f"message {index} has weight {message['weight']!r}; it must be 0 or 1")
    if not any(isinstance(m, dict) and m.get("role") == "assistant" for m in messages):
        report.add(line, "example_missing_assistant_message", "the example has no assistant message to learn from")
    return messages if countable else None


def _check_schema(report: ValidationReport, line: int, example: Any, fmt: str) -> None:
    if not isinstance(example, dict):
        report.add(line, "data_type", f"each example must be a JSON object, not {type(example).__name__}")
        return
    required, optional = SCHEMAS[fmt]
    for name, kind in required.items():
        if name not in example:
            report.add(line, "missing_field", f"the field {name!r} is missing")
        elif not isinstance(example[name], kind):
            report.add(line, "wrong_type", f"{name!r} must be {kind.__name__}, not {type(example[name]).__name__}")
    for name, kind in optional.items():
        if name in example and not isinstance(example[name], kind):
            report.add(line, "wrong_type", f"{name!r} must be {kind.__name__}, not {type(example[name]).__name__}")
    unknown = sorted(set(example) - set(required) - set(optional))
    if unknown:
        report.add(line, "unknown_key", f"unknown keys: {', '.join(unknown)}", "warning")
    answer = {"alpaca": "output", "chat-template": "text", "completion": "completion"}.get(fmt)
    if answer and isinstance(example.get(answer), str) and not example[answer].strip():
        report.add(line, "empty_answer", f"{answer!r} is empty: nothing to learn")
    if fmt == "chat-template" and isinstance(example.get("prompt"), str) and isinstance(example.get("text"), str) \
            and not example["text"].startswith(example["prompt"]):
        report.add(line, "prompt_mismatch", "'text' does not start with 'prompt'")
    elif fmt == "chat-template" and isinstance(example.get("prompt"), str) and isinstance(example.get("text"), str):
        report.add(line, "prompt_column", "a 'prompt' beside 'text' makes TRL's SFTTrainer read the file as "
                   "prompt/completion data (and fail on the missing 'completion'); export it again", "warning")
    if fmt == "sharegpt" and isinstance(example.get("conversations"), list):
        turns = example["conversations"]
        if not turns:
            report.add(line, "missing_field", "'conversations' is empty")
        for index, turn in enumerate(turns, start=1):
            if not isinstance(turn, dict) or not isinstance(turn.get("value"), str) or "from" not in turn:
                report.add(line, "wrong_type", f"turn {index} must be an object with 'from' and a text 'value'")
            elif turn["from"] not in SHAREGPT_ROLES:
                report.add(line, "unrecognized_role",
                           f"turn {index} is from {turn['from']!r}; allowed: {', '.join(SHAREGPT_ROLES)}")
        if turns and not any(isinstance(t, dict) and t.get("from") == "gpt" for t in turns):
            report.add(line, "example_missing_assistant_message", "no 'gpt' turn to learn from")


def validate_file(path: str | Path, fmt: str, model: str | None = None) -> ValidationReport:
    """Check a JSONL training file of ``fmt``; ``model`` sets the token limit (openai-chat)."""
    check_format(fmt)
    path = Path(path)
    if not path.is_file():
        raise ValidationInputError(f"{path} does not exist or is not a file.")
    # bounded lines: a binary file, another encoding or a 2 GB line is one sentence, not a memory blow-up
    numbered = list(numbered_lines(path, ValidationInputError))
    return validate_lines(numbered, fmt, model, str(path))


def validate_records(records: list[dict[str, Any]], fmt: str, model: str | None = None,
                     name: str = "<records>") -> ValidationReport:
    """The same checks on in-memory records (what the page is about to export)."""
    return validate_lines([(i, json.dumps(r, ensure_ascii=False)) for i, r in enumerate(records, start=1)],
                          fmt, model, name)


def validate_lines(numbered: list[tuple[int, str | None]], fmt: str, model: str | None, name: str) -> ValidationReport:
    check_format(fmt)
    if fmt == "openai-chat":
        model = model or DEFAULT_OPENAI_MODEL
    report = ValidationReport(path=name, fmt=fmt, model=model)
    countable: list[tuple[int, list[dict[str, Any]]]] = []
    for line, text in numbered:
        if text is None:  # longer than core.data.jsonl.MAX_LINE_BYTES, never read into memory
            report.add(line, "line_too_long", f"longer than {MAX_LINE_BYTES >> 20} MB: not a training example")
            continue
        if not text.strip():
            if line != len(numbered):
                report.add(line, "blank_line", "blank line (skipped by us, rejected by some uploaders)", "warning")
            continue
        try:
            example = json.loads(text)
        except json.JSONDecodeError as exc:
            report.add(line, "invalid_json", f"not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        report.n_examples += 1
        if fmt == "openai-chat":
            messages = _check_chat(report, line, example)
            if messages is not None:
                countable.append((line, messages))
        else:
            _check_schema(report, line, example, fmt)
    if report.n_examples == 0:
        report.add(0, "empty_file", "the file has no examples")
    if fmt == "openai-chat":
        if 0 < report.n_examples < MIN_EXAMPLES:
            report.add(0, "too_few_examples", f"{report.n_examples} examples; OpenAI requires at least {MIN_EXAMPLES}")
        _check_chat_tokens(report, countable, model or DEFAULT_OPENAI_MODEL)
    report.problems.sort(key=lambda p: (p.line, p.severity != "error"))
    return report


def _check_chat_tokens(report: ValidationReport, countable: list[tuple[int, list[dict[str, Any]]]], model: str) -> None:
    from core.costs.prices import base_model_name, openai_example_limit
    from core.formats.openai_tokens import openai_batch_tokens
    from core.tokens import UnknownTokenizerError, encoding_name_for_model

    if not countable:
        return
    try:
        encoding = encoding_name_for_model(base_model_name(model))
    except UnknownTokenizerError:
        report.add(0, "unknown_model", f"no tokenizer is known for {model!r}; token limits were not checked", "warning")
        return
    limit = openai_example_limit(model)
    counts = openai_batch_tokens([m for _, m in countable], encoding)
    for (line, _), count in zip(countable, counts.tolist()):
        if count > limit:
            report.add(line, "too_long", f"{count:,} tokens, over {model}'s {limit:,}-token limit: it will be truncated",
                       "warning")
    no_system = sum(1 for _, m in countable if not any(x.get("role") == "system" for x in m))
    no_user = sum(1 for _, m in countable if not any(x.get("role") == "user" for x in m))
    report.stats.update({
        "encoding": encoding, "token_limit": limit, "total_tokens": int(counts.sum()),
        "mean_tokens": round(float(counts.mean()), 1), "max_tokens": int(counts.max()),
        "examples_without_system": no_system, "examples_without_user": no_user,
    })
