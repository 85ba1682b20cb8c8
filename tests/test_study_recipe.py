"""The study recipe (core/study/recipe.py): the bundled seed recipe reads, round-trips through
``dump_recipe``, and every bad recipe is one sentence naming the file, the key and its line."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.study.recipe import RecipeError, dump_recipe, key_name, load_recipe, parse_recipe

ROOT = Path(__file__).resolve().parent.parent
SEED_RECIPE = ROOT / "dados" / "estudos" / "seed-study.toml"

GOOD = """\
[study]
name = "tiny"

[data]
path = "../amostra_trn_20k.json.gz"

[curation]
name = "tiny-data"
train_size = 40
test_size = 10

[[formats]]
format = "openai-chat"

[[runs]]
name = "first"
preset = "cpu-demo"
max_steps = 2

[[runs]]
name = "second"
preset = "cpu-demo"
lora_r = 4

[evaluation]
models = ["local:smollm2", "run:first"]
limit = 4
"""


def _error(text: str) -> str:
    with pytest.raises(RecipeError) as caught:
        parse_recipe(text, ROOT / "dados" / "estudos", "study.toml")
    message = str(caught.value)
    assert "\n" not in message and message.endswith((".", "?")), message
    return message


def _line_of(text: str, needle: str) -> int:
    """The last line holding ``needle`` (a duplicate is the later one)."""
    return [i for i, line in enumerate(text.splitlines(), start=1) if needle in line][-1]


def test_the_bundled_recipe_reads_and_round_trips() -> None:
    recipe = load_recipe(SEED_RECIPE)
    assert recipe.name == "seed-study" and recipe.data_path().resolve() == (ROOT / "dados" / "amostra_trn_20k.json.gz")
    assert recipe.step_names() == [
        "data", "curation", "format:openai-chat-train", "format:chat-template-train", "train:smollm2-lora",
        "train:gpt-4o-mini", "train:together-llama", "train:fireworks-llama", "checkpoints:smollm2-lora",
        "evaluation", "report"]
    config = recipe.curation.config()
    assert (config.train_size, config.test_size, config.max_tokens, config.keywords) == \
        (1500, 500, 256, ["author", "copyright"])
    local = recipe.run("smollm2-lora").train_config("seed-sample@v1")
    assert (local.preset, local.max_steps, local.save_every, local.data) == ("cpu-demo", 16, 8, "seed-sample@v1")
    openai = recipe.run("gpt-4o-mini").train_config("seed-sample@v1")
    assert openai.openai == {"n_epochs": 3, "batch_size": 3, "learning_rate_multiplier": 1.8, "suffix": "seed"}
    assert openai.format == "openai-chat" and openai.remote_model() == "gpt-4o-mini-2024-07-18"
    assert recipe.evaluation.eval_config("seed-sample@v1", ["local:smollm2"]).max_new_tokens == 64
    text = dump_recipe(recipe.to_dict())
    again = parse_recipe(text, recipe.base_dir, "dumped.toml")
    assert again == recipe and again.to_dict() == recipe.to_dict()
    assert "[[runs]]" in text and "[runs.openai]" in text  # tables, not inline arrays: readable diffs


def test_optional_values_and_defaults_round_trip(tmp_path: Path) -> None:
    text = GOOD.replace('test_size = 10', 'test_size = 10\nmax_tokens = "none"\nshuffle_seed = 7')
    text += '\n[report]\nxlsx = "out.xlsx"\n'
    recipe = parse_recipe(text, tmp_path, "t.toml")
    assert recipe.curation.config().max_tokens is None and recipe.curation.settings["shuffle_seed"] == 7
    assert recipe.run("second").settings == {"lora_r": 4}  # only what differs from the preset is kept
    assert recipe.evaluation.settings["judge_model"] is None and recipe.evaluation.settings["limit"] == 4
    assert parse_recipe(dump_recipe(recipe.to_dict()), tmp_path, "again.toml") == recipe
    assert recipe.report.xlsx == "out.xlsx"


@pytest.mark.parametrize(("change", "key", "needle", "words"), [
    (("max_steps = 2", "max_stpes = 2"), "runs[1].max_stpes", "max_stpes", "did you mean `max_steps`?"),
    (("lora_r = 4", 'lora_r = "four"'), "runs[2].lora_r", 'lora_r = "four"', "must be a whole number"),
    (("lora_r = 4", "lora_r = 0"), "runs[2].lora_r", "lora_r = 0", "must be at least 1"),
    (('format = "openai-chat"', 'format = "openai"'), "formats[1].format", 'format = "openai"', "must be one of"),
    (('name = "second"', 'name = "first"'), "runs[2].name", 'name = "first"', "already the name of an earlier run"),
    (('"run:first"]', '"run:third"]'), "evaluation.models", "models =", "no [[runs]] table is named 'third'"),
    (("test_size = 10", "test_size = -1"), "curation.test_size", "test_size", "whole number >= 0"),
    (("limit = 4", 'limit = 4\nvariants = ["klingon"]'), "evaluation.variants", "variants", "unknown names"),
    (('[[runs]]\nname = "second"', '[[runs]]\nname = "second"\nbackend = "together"\n[runs.openai]\nn_epochs = 2'),
     "runs[2].openai", "[runs.openai]", 'is for backend = "openai"'),
    (('preset = "cpu-demo"\nlora_r', 'preset = "cpu-demo"\ntemplate = {user_template = "{content}"}\nlora_r'),
     "runs[2].template.user_template", "template =", "must not contain {content}"),
])
def test_schema_errors_name_the_key_and_its_line(change: tuple[str, str], key: str, needle: str, words: str) -> None:
    assert change[0] in GOOD
    text = GOOD.replace(change[0], change[1], 1)
    message = _error(text)
    assert message.startswith(f"study.toml, line {_line_of(text, needle)}: `{key}` "), message
    assert words in message, message


def test_top_level_problems_and_toml_syntax() -> None:
    message = _error(GOOD.replace("[evaluation]", "[evaluaton]"))
    assert "`evaluaton` is not a key" in message and "did you mean `evaluation`?" in message
    assert re.match(r"study\.toml, line \d+: ", message)
    message = _error(GOOD.replace("max_steps = 2", "max_steps = = 2"))
    assert message.startswith(f"study.toml, line {_line_of(GOOD, 'max_steps')}, column ") and "not valid TOML" in message
    assert "`study` needs `name`" in _error(GOOD.replace('name = "tiny"\n', ""))
    assert "built-in preset" in _error(GOOD.replace('name = "tiny-data"', 'name = "tiny-data"\npreset = "mine"'))
    assert "needs `data`" in _error(GOOD.split("[curation]")[0].replace("[data]", "[report]").replace(
        'path = "../amostra_trn_20k.json.gz"', "") + '[[runs]]\nname = "x"\n')


def test_bad_paths_are_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(RecipeError, match="does not exist"):
        load_recipe(tmp_path / "missing.toml")
    with pytest.raises(RecipeError, match="is not a file"):
        load_recipe(tmp_path)
    binary = tmp_path / "b.toml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(RecipeError, match="not UTF-8"):
        load_recipe(binary)


def test_key_names_count_tables_from_one() -> None:
    assert key_name(("runs", 0, "openai", "n_epochs")) == "runs[1].openai.n_epochs"
    assert key_name(("evaluation", "models")) == "evaluation.models"
