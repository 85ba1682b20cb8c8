"""Config dataclasses: help text, validation naming the field, JSON round trip, masked secrets."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from core.config import ConfigBase, ConfigError, field_help, mask_secrets, option


@dataclass
class Example(ConfigBase):
    size: int = option(3, "How many.")
    names: list = option(["a"], "Which.")
    api_key: str = option("", "Secret.")

    def validate(self) -> None:
        self.check(self.size > 0, "size", "must be positive")


def test_round_trip_and_help() -> None:
    e = Example(size=5, names=["x", "y"])
    assert Example.from_dict(e.to_dict()) == e
    assert field_help(Example, "size") == "How many."
    assert Example().names is not Example().names


def test_validation_names_the_field() -> None:
    with pytest.raises(ConfigError, match="Example.size must be positive"):
        Example(size=0)
    with pytest.raises(ConfigError, match="no field"):
        Example.from_dict({"nope": 1})


def test_secrets_masked_in_json() -> None:
    assert "sk-123" not in Example(api_key="sk-123").to_json()
    assert mask_secrets({"OPENAI_API_KEY": "sk", "nested": [{"token": "t"}], "x": 1}) == {
        "OPENAI_API_KEY": "***", "nested": [{"token": "***"}], "x": 1}
