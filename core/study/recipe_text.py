"""The text side of study recipes: where a key is written (line numbers for one-sentence errors),
how a TOML value maps to a config field's type, and a small TOML writer that keeps a recipe
readable (``[[runs]]`` tables, not inline arrays). Used by core/study/recipe.py.

    Locator(text).line(("runs", 1, "lora_r"))     # the line of runs[2].lora_r (or of its table)
    key_name(("runs", 1, "lora_r"))                # 'runs[2].lora_r'
    write_toml({"study": {"name": "x"}, "runs": [{"name": "a", "openai": {"n_epochs": 3}}]})
"""
from __future__ import annotations

import json
import math
import re
from typing import Any

Path_ = tuple[str | int, ...]  # a key's place: ("runs", 1, "lora_r") is runs[2].lora_r


# -- where a key is written ------------------------------------------------------------------------
_HEADER = re.compile(r"^\s*(\[\[|\[)\s*([^\[\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*((?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*'))*)\s*=")
_STRINGS = re.compile(r"\"(?:\\.|[^\"\\])*\"|'[^']*'")


def _parts(dotted: str) -> list[str]:
    return [p.strip().strip("\"'") for p in re.findall(r"\"[^\"]*\"|'[^']*'|[^.]+", dotted)]


class Locator:
    """The line of every table header and ``key =`` line, by key path: a small scan, enough for
    recipes people write (multi-line strings and arrays are skipped, not parsed)."""

    def __init__(self, text: str) -> None:
        self.lines: dict[Path_, int] = {}
        counts: dict[tuple[str | int, ...], int] = {}
        table: Path_ = ()
        depth = 0
        in_string: str | None = None
        for number, line in enumerate(text.splitlines(), start=1):
            if in_string:
                if line.count(in_string) % 2:
                    in_string = None
                continue
            if depth > 0:
                depth += self._depth(line)
                continue
            header = _HEADER.match(line)
            if header:
                table = self._resolve(_parts(header.group(2)), counts, array=header.group(1) == "[[")
                self.lines.setdefault(table, number)
                continue
            key = _KEY.match(line)
            if key:
                path = self._resolve(_parts(key.group(1)), counts, base=table)
                self.lines.setdefault(path, number)
                rest = line[key.end():]
                for quote in ('"""', "'''"):
                    if rest.count(quote) % 2:
                        in_string = quote
                depth = max(0, self._depth(rest))

    @staticmethod
    def _depth(text: str) -> int:
        bare = _STRINGS.sub("", text).split("#")[0]
        return bare.count("[") + bare.count("{") - bare.count("]") - bare.count("}")

    @staticmethod
    def _resolve(parts: list[str], counts: dict[tuple[str | int, ...], int], base: Path_ = (),
                 array: bool = False) -> Path_:
        path: list[str | int] = list(base)
        for i, part in enumerate(parts):
            path.append(part)
            last = i == len(parts) - 1
            if array and last:
                counts[tuple(path)] = counts.get(tuple(path), -1) + 1
            if tuple(path) in counts and not (last and not array):
                path.append(counts[tuple(path)])
        return tuple(path)

    def line(self, path: Path_) -> int | None:
        for end in range(len(path), 0, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return None


def key_name(path: Path_) -> str:
    """``("runs", 1, "lora_r")`` -> ``runs[2].lora_r`` (tables counted from 1, as a reader counts them)."""
    out = ""
    for part in path:
        out += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


# -- types -----------------------------------------------------------------------------------------
def _allowed(annotation: str) -> set[str]:
    return {p.strip().split("[")[0] for p in str(annotation).split("|")}


def coerce(value: Any, annotation: str) -> tuple[bool, Any]:
    """(ok, value) for a TOML value and a dataclass field's annotation: ``"none"`` is None for an
    optional number, ``""`` None for an optional text; bools are never numbers."""
    kinds = _allowed(annotation)
    if "None" in kinds:
        if value == "" and "str" in kinds:
            return True, None
        if isinstance(value, str) and value.strip().lower() == "none" and "str" not in kinds:
            return True, None
    if "Any" in kinds:
        return True, value
    if isinstance(value, bool):
        return "bool" in kinds, value
    if isinstance(value, int) and ("int" in kinds or "float" in kinds):
        return True, value if "int" in kinds else float(value)
    if isinstance(value, float) and "float" in kinds:
        return True, value
    if isinstance(value, str) and "str" in kinds:
        return True, value
    if isinstance(value, list) and "list" in kinds:
        return all(isinstance(v, str) for v in value) or "list[str]" not in annotation.replace(" ", ""), value
    if isinstance(value, dict) and "dict" in kinds:
        return True, value
    return False, value


def type_words(annotation: str) -> str:
    words = {"int": "a whole number", "float": "a number", "str": "a text in quotes", "bool": "true or false",
             "list": "a list of texts", "dict": "a table", "None": '"none"'}
    kinds = [k for k in _allowed(annotation) if k in words]
    if "None" in kinds and "str" in kinds:
        kinds[kinds.index("None")] = "_"
        words["_"] = '""'
    return " or ".join(words[k] for k in kinds)


def toml_value(value: Any, annotation: str = "") -> Any:
    """A config value as the recipe writes it (TOML has no null)."""
    if value is None:
        return "" if "str" in _allowed(annotation) else "none"
    if isinstance(value, dict):
        return {k: toml_value(v) for k, v in value.items() if v is not None}
    return value


# -- writing -------------------------------------------------------------------------------------
def write_toml(data: dict[str, Any], order: tuple[str, ...] = (), header: str = "") -> str:
    """TOML text of plain data: tables first in ``order`` (then the rest), arrays of tables as
    ``[[name]]``, nested tables as ``[name.sub]``, ``header`` (comment lines) on top."""
    names = [k for k in order if k in data and (k == "report" or data[k] not in (None, [], {}))]
    names += [k for k in data if k not in order]
    lines = [header.rstrip("\n")] if header else []
    for name in names:
        value = data[name]
        if isinstance(value, list) and all(isinstance(v, dict) for v in value):
            for item in value:
                _write_table(lines, f"[[{_toml_key(name)}]]", item, _toml_key(name))
        elif isinstance(value, dict):
            _write_table(lines, f"[{_toml_key(name)}]", value, _toml_key(name))
        else:
            raise TypeError(f"top-level recipe key {name!r} must be a table or an array of tables")
    return "\n".join(lines).lstrip("\n") + "\n"


def _write_table(lines: list[str], header: str, table: dict[str, Any], name: str) -> None:
    lines += ["", header]
    subtables = []
    for key, value in table.items():
        if value is None:
            continue
        if isinstance(value, dict) and value:
            subtables.append((key, value))
        else:
            lines.append(f"{_toml_key(key)} = {_toml_text(value)}")
    for key, value in subtables:
        _write_table(lines, f"[{name}.{_toml_key(key)}]", value, f"{name}.{_toml_key(key)}")


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)


def _toml_text(value: Any) -> str:
    """One TOML value; JSON's string escapes are valid TOML basic-string escapes."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return ("-inf" if value < 0 else "inf") if not math.isnan(value) else "nan"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        items = [_toml_text(v) for v in value]
        one_line = "[" + ", ".join(items) + "]"
        return one_line if len(one_line) <= 100 else "[\n" + "".join(f"    {i},\n" for i in items) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_text(v)}" for k, v in value.items() if v is not None) + "}"
    if value is None:
        return '""'
    raise TypeError(f"cannot write {type(value).__name__} in a recipe")
