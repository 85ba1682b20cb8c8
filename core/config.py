"""Dataclass configs in the style of peft: every field carries help text, configs validate
themselves in ``__post_init__`` and round-trip to plain dicts / JSON.

    @dataclass
    class CurationConfig(ConfigBase):
        max_tokens: int | None = option(256, "Keep rows whose title+content tokens are at most this.")

        def validate(self) -> None:
            self.check(self.max_tokens is None or self.max_tokens > 0, "max_tokens", "must be positive")

``field_help(CurationConfig, "max_tokens")`` gives the help text, which pages reuse as widget help.
``mask_secrets(d)`` replaces values of secret-looking keys before anything is stored or logged.
"""
from __future__ import annotations

import dataclasses
import json
import re
from typing import Any, TypeVar

from core.errors import UserFacingError

T = TypeVar("T", bound="ConfigBase")
_SECRET_KEY = re.compile(r"(api[_-]?key|secret|token$|password|authorization)", re.I)


class ConfigError(UserFacingError):
    """A config field has a value it cannot take."""


def option(default: Any = dataclasses.MISSING, help: str = "", **kwargs: Any) -> Any:  # noqa: A002
    """A dataclass field with help text; mutable defaults are wrapped in a factory."""
    metadata = {"help": help}
    if isinstance(default, (list, dict, set)):
        value = default
        return dataclasses.field(default_factory=lambda: type(value)(value), metadata=metadata, **kwargs)
    return dataclasses.field(default=default, metadata=metadata, **kwargs)


def field_help(cls: type, name: str) -> str:
    for f in dataclasses.fields(cls):
        if f.name == name:
            return str(f.metadata.get("help", ""))
    raise KeyError(name)


@dataclasses.dataclass
class ConfigBase:
    """Base class: validation hook, dict/JSON round trip."""

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Override: raise ConfigError (via self.check) naming the field."""

    def check(self, condition: bool, field: str, problem: str) -> None:
        if not condition:
            raise ConfigError(f"{type(self).__name__}.{field} {problem} (got {getattr(self, field, None)!r}).")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(mask_secrets(self.to_dict()), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_dict(cls: type[T], data: dict[str, Any]) -> T:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ConfigError(f"{cls.__name__} has no field(s) {', '.join(unknown)}.")
        return cls(**data)

    @classmethod
    def from_json(cls: type[T], text: str) -> T:
        return cls.from_dict(json.loads(text))


def mask_secrets(value: Any) -> Any:
    """A copy of ``value`` where every dict entry with a secret-looking key is masked."""
    if isinstance(value, dict):
        return {k: ("***" if _SECRET_KEY.search(str(k)) and v else mask_secrets(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_secrets(v) for v in value]
    return value
