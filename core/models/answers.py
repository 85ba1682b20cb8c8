"""What generation takes and gives: ``GenerationSettings`` (sampling, length, the prompt template a
model was trained with) and ``Answer`` (one answer with its latency, tokens and cost).

    from core.models.answers import GenerationSettings
    settings = GenerationSettings(max_new_tokens=64).messages("The Hobbit")

Shared by local generation (core/models/generate.py) and remote answers (core/models/generate_remote.py).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from core.config import ConfigBase, option


@dataclass
class GenerationSettings(ConfigBase):
    """How to ask a model: sampling, length, and the prompt template the model was trained with."""

    temperature: float = option(0.0, "Sampling temperature: 0 is greedy (the same answer every time), "
                                     "higher is more varied (0 to 2).")
    max_new_tokens: int = option(128, "The most tokens an answer may have (1 to 4096).")
    top_p: float = option(1.0, "Nucleus sampling: keep the most likely tokens whose probabilities add up to "
                               "this (0 to 1; only used when the temperature is above 0).")
    system_prompt: str | None = option(None, "An optional system message sent before the question; use the "
                                             "one the model was fine-tuned with.")
    user_template: str = option("{title}", "The user message, with {title} where the prompt goes: the same "
                                           "template as in the training data, or the fine-tune will not "
                                           "recognise its task.")
    seed: int = option(0, "Random seed for sampling (temperature above 0), so a sampled answer can be repeated.")

    def validate(self) -> None:
        self.check(isinstance(self.temperature, (int, float)) and 0 <= self.temperature <= 2,
                   "temperature", "must be between 0 and 2")
        self.check(isinstance(self.max_new_tokens, int) and 1 <= self.max_new_tokens <= 4096,
                   "max_new_tokens", "must be a whole number from 1 to 4096")
        self.check(isinstance(self.top_p, (int, float)) and 0 < self.top_p <= 1, "top_p", "must be above 0 and at most 1")
        self.check(isinstance(self.user_template, str) and "{title}" in self.user_template,
                   "user_template", "must contain {title}, where the prompt goes")
        self.check(isinstance(self.seed, int), "seed", "must be a whole number")
        if self.system_prompt is not None and not self.system_prompt.strip():
            self.system_prompt = None

    def user_message(self, prompt: str) -> str:
        # replace, not str.format: templates may hold other braces (JSON examples, code).
        return self.user_template.replace("{title}", prompt)

    def messages(self, prompt: str) -> list[dict[str, str]]:
        """The chat messages for ``prompt``: optional system message, then the templated user turn."""
        messages = [{"role": "system", "content": self.system_prompt}] if self.system_prompt else []
        return messages + [{"role": "user", "content": self.user_message(prompt)}]


def settings_for_model(model: dict[str, Any], base: GenerationSettings | None = None) -> GenerationSettings:
    """``base`` with the system prompt and user template a fine-tune was trained with, when the
    registry knows them (the training page stores them as prompt_template_json)."""
    from core.models.registry import training_template

    base = base or GenerationSettings()
    template = training_template(model)
    system = template.get("system_prompt", template.get("system"))
    user = template.get("user_template", template.get("user"))
    changes: dict[str, Any] = {}
    if isinstance(system, str) and system.strip():
        changes["system_prompt"] = system
    if isinstance(user, str) and "{title}" in user:
        changes["user_template"] = user
    return dataclasses.replace(base, **changes) if changes else base


@dataclass
class Answer:
    """One model answer with its measurements.

    In a local batch, ``total_s`` is the answer's share of the batch's wall time (so the answers of
    an evaluation add up to its wall time and the cost adds up too) and ``latency_first_token_s``
    is the time from the start of the batch to its first token. ``cost_usd`` is None when the model
    has no price."""

    model_id: str
    prompt: str
    text: str
    latency_first_token_s: float | None = None
    total_s: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
