"""Training formats: one curated row -> the JSONL object of each format -> the exact text a model sees.

Five formats (``FORMATS``), all built from the same ``TemplateConfig`` (system prompt, user
template such as ``"Describe the product: {title}"``, assistant template ``"{content}"``):

  openai-chat    ``{"messages": [{"role": "system"|"user"|"assistant", "content": ...}]}``
  alpaca         ``{"instruction", "input", "output"}``; rendered with Stanford Alpaca's prompt
  sharegpt       ``{"conversations": [{"from": "system"|"human"|"gpt", "value": ...}]}``
  chat-template  ``{"text"}``: the local model's own ``apply_chat_template`` output, ending at its
                 end-of-sequence token; the only column, so TRL's SFTTrainer reads it as language
                 modeling data. The manifest's ``response_template`` (e.g. ``"<|im_start|>assistant\n"``)
                 marks where each answer starts, for completion-only loss.
  completion     ``{"prompt", "completion"}`` in OpenAI's legacy convention: the prompt ends with a
                 fixed separator (``COMPLETION_SEPARATOR``, unless the user template ends with its own,
                 like the seed's ``"<title> ->"``) and the completion starts with a space, so the
                 prompt/answer boundary is a token boundary (TRL tokenizes prompt + completion as one
                 text and must find the same split the local trainer makes).

The answer is the curated content exactly (the assistant template only wraps it). Token
statistics per format use the tokenizer that will really read the text: tiktoken (o200k for
the gpt-4o/4.1 families) for the OpenAI formats, the local model's tokenizer for the others.

    rows = read_split(resolve_source("seed-study"), "train")
    records = to_records(rows, "alpaca", PRESETS["seed-openai"])
    print(render_text(rows[0], "chat-template", PRESETS["seed-openai"], "smollm2"))
    stats = format_stats(rows, "openai-chat", PRESETS["seed-openai"])   # .mean, .p95, .overhead_mean
"""
from __future__ import annotations

import dataclasses
import functools
import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core.config import ConfigBase, option
from core.errors import UserFacingError

FORMATS = ("openai-chat", "alpaca", "sharegpt", "chat-template", "completion")
OPENAI_FORMATS = ("openai-chat", "completion")  # counted with tiktoken; the others with the local tokenizer
TEMPLATE_FIELDS = ("title", "content")
DEFAULT_LOCAL_MODEL = "smollm2"
DEFAULT_OPENAI_ENCODING = "o200k_base"

# Stanford Alpaca's prompts (tatsu-lab/stanford_alpaca, train.py PROMPT_DICT), byte for byte.
ALPACA_PROMPT_INPUT = (
    "Below is an instruction that describes a task, paired with an input that provides further context. "
    "Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n"
)
ALPACA_PROMPT_NO_INPUT = (
    "Below is an instruction that describes a task. "
    "Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n{instruction}\n\n### Response:\n"
)
SHAREGPT_ROLES = {"system": "system", "user": "human", "assistant": "gpt"}
# OpenAI's legacy prompt/completion guide: "end each prompt with a fixed separator" such as this one,
# "start each completion with a whitespace". With the bundled SmolLM2 tokenizer it is 4 tokens
# (\n, \n, ###, \n\n) and " <word>" stays the word's usual token, so prompt + completion tokenizes
# as prompt tokens + completion tokens (tests/test_trl_reads_exports.py); a bare "\n\n" before an
# answer without the space does not (TRL then cuts the prompt's last token).
COMPLETION_SEPARATOR = "\n\n###\n\n"


class FormatError(UserFacingError):
    """An unknown format, or a record that does not have the shape of its format."""


class TemplateError(UserFacingError):
    """A template that cannot be filled from a curated row."""


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise FormatError(f"Unknown format {fmt!r}: choose one of {', '.join(FORMATS)}.")
    return fmt


def _template_fields(text: str, field: str) -> list[str]:
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:  # a lone "{" or "}"
        raise TemplateError(f"The {field} has a stray brace ({exc}); write {{{{ or }}}} for a literal brace.") from None
    names = [name for _, name, _, _ in parsed if name is not None]
    for name in names:
        if name not in TEMPLATE_FIELDS:
            raise TemplateError(
                f"The {field} uses {{{name}}}, but a curated row only has "
                + ", ".join("{" + f + "}" for f in TEMPLATE_FIELDS) + "."
            )
    return names


@dataclass
class TemplateConfig(ConfigBase):
    """How a curated row (title, content) becomes a conversation; shared by every format."""

    system_prompt: str = option(
        "", "System message put before every example (empty: none). OpenAI chat, ShareGPT and the chat "
        "template get it as a system turn; Alpaca uses it as the instruction; completion prepends it.")
    user_template: str = option(
        "{title}", "The user's message; {title} and {content} are replaced by the row's fields, "
        "e.g. 'Describe the product: {title}'.")
    assistant_template: str = option(
        "{content}", "The answer the model learns; must contain {content}, which is inserted exactly as curated.")

    def validate(self) -> None:
        for name in ("system_prompt", "user_template", "assistant_template"):
            self.check(isinstance(getattr(self, name), str), name, "must be text")
        _template_fields(self.system_prompt, "system prompt")
        user_fields = _template_fields(self.user_template, "user template")
        self.check(bool(self.user_template.strip()), "user_template", "must not be empty")
        self.check("content" not in user_fields, "user_template",
                   "must not contain {content}: that would show the model its own answer")
        self.check("content" in _template_fields(self.assistant_template, "assistant template"),
                   "assistant_template", "must contain {content}")

    def fill(self, row: dict[str, Any]) -> tuple[str, str, str]:
        """(system, user, assistant) texts for one row."""
        values = {f: row.get(f, "") for f in TEMPLATE_FIELDS}
        return (self.system_prompt.format_map(values), self.user_template.format_map(values),
                self.assistant_template.format_map(values))


PRESETS: dict[str, TemplateConfig] = {
    # The seed study's OpenAI file (trn_gpt4_formatted.jsonl): no system message, the title alone as
    # the user turn, the description as the answer.
    "seed-openai": TemplateConfig(system_prompt="", user_template="{title}", assistant_template="{content}"),
    # Its first attempt, in OpenAI's legacy prompt/completion layout.
    "seed-completion": TemplateConfig(system_prompt="", user_template="{title} ->",
                                      assistant_template=" {content} STOPSTOP"),
    # An instruction-style layout, closer to what instruction-tuned models expect.
    "describe": TemplateConfig(
        system_prompt="You write the description of a book from its title.",
        user_template="Describe the product: {title}", assistant_template="{content}"),
}
DEFAULT_PRESET = "seed-openai"


def get_preset(name: str) -> TemplateConfig:
    if name not in PRESETS:
        raise TemplateError(f"Unknown template preset {name!r}: choose one of {', '.join(PRESETS)}.")
    return dataclasses.replace(PRESETS[name])


# -- records -----------------------------------------------------------------------------------
def _messages(system: str, user: str, assistant: str | None) -> list[dict[str, str]]:
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": user})
    if assistant is not None:
        messages.append({"role": "assistant", "content": assistant})
    return messages


@functools.lru_cache(maxsize=4)
def format_tokenizer(spec: str) -> Any:
    from core.bundled import load_tokenizer

    tokenizer = load_tokenizer(spec)
    if not getattr(tokenizer, "chat_template", None):
        raise FormatError(f"The tokenizer of {spec!r} has no chat template; use the alpaca or sharegpt format instead.")
    return tokenizer


def apply_chat_template(messages: list[dict[str, str]], tokenizer_spec: str, generation_prompt: bool = False) -> str:
    """The tokenizer's own rendering of a conversation (as text, special tokens included)."""
    return str(format_tokenizer(tokenizer_spec).apply_chat_template(
        messages, tokenize=False, add_generation_prompt=generation_prompt))


def chat_template_texts(messages: list[dict[str, str]], tokenizer: Any) -> tuple[str, str | None]:
    """(text, prompt) of a conversation through ``tokenizer``'s chat template: the text ends at the
    tokenizer's end-of-sequence token (SmolLM2's template adds a newline after its last
    ``<|im_end|>``: a trainer that finds no EOS at the end appends one, as TRL does, and would learn
    ``<|im_end|>\n<|im_end|>``); the prompt is the text before the answer, None when the template
    renders the prompt alone differently."""
    text = str(tokenizer.apply_chat_template(messages, tokenize=False))
    eos = getattr(tokenizer, "eos_token", None)
    if eos and text.rstrip().endswith(eos):
        text = text.rstrip()
    prompt = str(tokenizer.apply_chat_template(messages[:-1], tokenize=False, add_generation_prompt=True))
    return text, (prompt if text.startswith(prompt) else None)


def response_template(tokenizer: Any) -> str:
    """What the chat template puts before an answer (SmolLM2: ``"<|im_start|>assistant\n"``): the
    generation prompt, found as the difference of a probe rendered with and without it. The
    training texts of the chat-template format are split there ('' when the template has none)."""
    probe = [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}]
    try:
        bare = str(tokenizer.apply_chat_template(probe, tokenize=False))
        primed = str(tokenizer.apply_chat_template(probe, tokenize=False, add_generation_prompt=True))
    except Exception:  # noqa: BLE001 - a template that cannot render the probe has no usable marker
        return ""
    return primed[len(bare):] if primed.startswith(bare) else ""


def split_chat_text(text: str, marker: str) -> tuple[str, str] | None:
    """(prompt, answer) of a chat-template text at the last ``marker``, None when it is absent."""
    cut = text.rfind(marker) if marker else -1
    return (text[:cut + len(marker)], text[cut + len(marker):]) if cut >= 0 else None


def ends_with_own_separator(user_template: str) -> bool:
    """The user template ends with literal text after its last field (``"{title} ->"``): that text
    is the template's own separator, so the completion format adds none."""
    parsed = list(string.Formatter().parse(user_template))
    return bool(parsed) and parsed[-1][1] is None and bool(parsed[-1][0])


def _record(row: dict[str, Any], fmt: str, template: TemplateConfig, tokenizer_spec: str | None) -> dict[str, Any]:
    system, user, assistant = template.fill(row)
    if fmt == "openai-chat":
        return {"messages": _messages(system, user, assistant)}
    if fmt == "alpaca":
        # The system prompt is the task ("instruction") and the user text its input; with no
        # system prompt the user text is the instruction itself (Alpaca's no-input variant).
        if system:
            return {"instruction": system, "input": user, "output": assistant}
        return {"instruction": user, "input": "", "output": assistant}
    if fmt == "sharegpt":
        return {"conversations": [{"from": SHAREGPT_ROLES[m["role"]], "value": m["content"]}
                                  for m in _messages(system, user, assistant)]}
    if fmt == "chat-template":
        text, _ = chat_template_texts(_messages(system, user, assistant), format_tokenizer(tokenizer_spec or DEFAULT_LOCAL_MODEL))
        return {"text": text}
    if fmt == "completion":
        prompt = f"{system}\n\n{user}" if system else user
        if not ends_with_own_separator(template.user_template):
            prompt += COMPLETION_SEPARATOR
        # a leading space: the answer's first word is the token it is everywhere else
        return {"prompt": prompt, "completion": assistant if assistant[:1].isspace() else " " + assistant}
    raise FormatError(f"Unknown format {fmt!r}: choose one of {', '.join(FORMATS)}.")


def to_records(rows: Sequence[dict[str, Any]], fmt: str, template: TemplateConfig | None = None,
               tokenizer_spec: str | None = None) -> list[dict[str, Any]]:
    """The JSONL objects of ``fmt`` for curated rows (``tokenizer_spec`` is for chat-template)."""
    check_format(fmt)
    template = template or get_preset(DEFAULT_PRESET)
    return [_record(row, fmt, template, tokenizer_spec) for row in rows]


def is_row(obj: dict[str, Any]) -> bool:
    return "title" in obj and "content" in obj


def record_messages(record: dict[str, Any], fmt: str) -> list[dict[str, str]]:
    """A record of a conversational format as OpenAI-style messages."""
    if fmt == "openai-chat":
        return list(record["messages"])
    if fmt == "sharegpt":
        back = {v: k for k, v in SHAREGPT_ROLES.items()}
        return [{"role": back.get(t["from"], t["from"]), "content": t["value"]} for t in record["conversations"]]
    if fmt == "alpaca":
        user = f"{record['instruction']}\n\n{record['input']}" if record.get("input") else record["instruction"]
        return _messages("", user, record["output"])
    raise FormatError(f"Records of the {fmt} format are not conversations.")


def _chatml(messages: list[dict[str, str]]) -> str:
    # OpenAI does not publish its training template; this is the layout the cookbook's count
    # models (3 tokens of framing per message), in gpt-4o's ChatML spelling.
    return "".join(f"<|im_start|>{m['role']}<|im_sep|>{m['content']}<|im_end|>" for m in messages)


def render_text(record_or_row: dict[str, Any], fmt: str, template: TemplateConfig | None = None,
                tokenizer_spec: str | None = None) -> str:
    """The exact text the model is trained on for one row (or one record of ``fmt``).

    openai-chat: OpenAI's framing as the cookbook counts it (not published, so an approximation);
    alpaca: Alpaca's prompt followed by the answer; sharegpt and chat-template: the local model's
    chat template (``tokenizer_spec``, default the bundled smollm2); completion: prompt + completion.
    """
    check_format(fmt)
    record = (_record(record_or_row, fmt, template or get_preset(DEFAULT_PRESET), tokenizer_spec)
              if is_row(record_or_row) else record_or_row)
    try:
        if fmt == "openai-chat":
            return _chatml(record["messages"])
        if fmt == "alpaca":
            prompt = ALPACA_PROMPT_INPUT if record.get("input") else ALPACA_PROMPT_NO_INPUT
            return prompt.format(instruction=record["instruction"], input=record.get("input", "")) + record["output"]
        if fmt == "sharegpt":
            return apply_chat_template(record_messages(record, fmt), tokenizer_spec or DEFAULT_LOCAL_MODEL)
        if fmt == "chat-template":
            return str(record["text"])
        return str(record["prompt"]) + str(record["completion"])
    except (KeyError, TypeError) as exc:
        raise FormatError(f"This record does not have the shape of the {fmt} format (missing {exc}).") from None


def answer_of(record: dict[str, Any], fmt: str, tokenizer_spec: str | None = None) -> str:
    """The answer part of a record (what the loss is computed on); a chat-template text is split at
    the response template of ``tokenizer_spec``'s chat template (default the bundled smollm2)."""
    if fmt == "openai-chat":
        return next((m["content"] for m in reversed(record["messages"]) if m.get("role") == "assistant"), "")
    if fmt == "alpaca":
        return str(record["output"])
    if fmt == "sharegpt":
        return next((t["value"] for t in reversed(record["conversations"]) if t.get("from") == "gpt"), "")
    if fmt == "chat-template":
        text, prompt = str(record["text"]), str(record.get("prompt") or "")
        if prompt and text.startswith(prompt):  # exports written before the prompt column was dropped
            return text[len(prompt):]
        split = split_chat_text(text, response_template(format_tokenizer(tokenizer_spec or DEFAULT_LOCAL_MODEL)))
        return split[1] if split else text
    return str(record["completion"])
