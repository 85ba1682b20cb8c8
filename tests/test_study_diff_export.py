"""`study diff` and `study export`: two real runs (the tiny model, launched by jobs.launch) that differ
in learning rate and curation side by side, two recipes side by side, the aligned text table and its
summary, targets that are neither a run nor a recipe as one sentence, and the recipe of what was made
by clicking (a curated dataset, an exported file, a finished run, an evaluation) loading back."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from test_lineage import _kill, save_dataset, tiny_config

from core.cli import main
from core.errors import UserFacingError
from core.store import Store
from core.store import runs as db
from core.study.diff import DiffTargetError, diff_targets, render_diff, show_value, summary
from core.training import jobs

ROOT = Path(__file__).resolve().parent.parent
SEED_TRAIN = ROOT / "dados" / "seed" / "train.jsonl"


def _wait(store: Store, run_id: str, timeout: float = 180.0) -> dict:
    end = time.time() + timeout
    while time.time() < end:
        jobs.poll(store)
        run = db.get_run(store, run_id)
        if run["status"] in db.TERMINAL:
            return run
        time.sleep(0.3)
    raise AssertionError(f"timed out; run is {db.get_run(store, run_id)}")


@pytest.fixture
def two_runs(db_store: Store, tiny_model_dir: Path) -> tuple[str, str]:  # noqa: F811
    save_dataset(db_store)                       # livros@v1: 40 / 10
    save_dataset(db_store, max_tokens=300)       # livros@v2: another curation of the same raw file
    a = jobs.launch(db_store, tiny_config(tiny_model_dir, data="livros@v1", learning_rate=3e-3))
    b = jobs.launch(db_store, tiny_config(tiny_model_dir, data="livros@v2", learning_rate=1e-3))
    return a, b


def _changed(rows) -> dict[tuple[str, str], tuple]:
    return {(r.section, r.key): (r.a, r.b) for r in rows if not r.same}


def test_two_runs_differ_in_learning_rate_and_curation(db_store: Store, two_runs) -> None:  # noqa: F811
    a, b = two_runs
    rows = diff_targets(db_store, a, b)
    changed = _changed(rows)
    assert changed[("curation", "max_tokens")] == (256, 300)
    assert changed[("hyperparameters", "learning_rate")] == (3e-3, 1e-3)
    assert changed[("data", "dataset")] == ("livros@v1", "livros@v2")
    assert ("data", "raw fingerprint") not in changed and ("data", "raw file") not in changed  # the same raw file
    assert not any(section in ("format", "base model") for section, _ in changed)
    sections = {r.section for r in rows}
    assert sections == {"data", "curation", "format", "base model", "hyperparameters"}
    assert {r.key for r in rows if r.section == "curation"} >= {"min_title_chars", "keywords", "train_size", "tokenizer"}

    text = render_diff(rows, labels=(a, b))
    lines = text.splitlines()
    differing = [line for line in lines[2:] if line.strip()]
    assert lines[0] == summary(rows) and lines[0].startswith(f"{len(changed)} differences: data ")
    assert "curation 1" in lines[0] and "hyperparameters 1" in lines[0]
    assert lines[2].split() == ["section", "key", a, b] and len(differing) == len(changed) + 1
    lr = next(line for line in differing if "learning_rate" in line)
    assert lr.split() == ["hyperparameters", "learning_rate", "0.003", "0.001"]
    # columns are aligned: every value of A starts at the same place
    assert len({line.index(part) for line, part in ((lines[2], a), (lr, "0.003"))}) == 1
    everything = render_diff(rows, show_all=True)
    assert len(everything.splitlines()) == len(rows) + 3 and "≠" in everything
    assert "lora_r" in everything and "lora_r" not in text
    # a run against itself, and by a unique start of its id
    same = diff_targets(db_store, a, a[:-2])
    assert all(r.same for r in same) and render_diff(same).startswith("No differences (")


def test_the_command_line_prints_the_same_table(isolated_results: Path, tiny_model_dir: Path, capsys) -> None:
    with Store() as store:  # closed before the command opens the database itself
        save_dataset(store)
        a = jobs.launch(store, tiny_config(tiny_model_dir, learning_rate=3e-3))
        b = jobs.launch(store, tiny_config(tiny_model_dir, learning_rate=1e-3, lora_r=8))
        expected = render_diff(diff_targets(store, a, b), labels=(a, b))
    try:
        assert main(["study", "diff", a, b]) == 0
        assert capsys.readouterr().out.strip() == expected
        assert expected.startswith("2 differences: hyperparameters 2") and "lora_r" in expected
        assert main(["study", "diff", a, b, "--all"]) == 0
        assert "max_tokens" in capsys.readouterr().out
        assert main(["study", "diff", a, "no-such-run"]) == 2
        assert capsys.readouterr().err.strip().startswith("error: 'no-such-run' is neither a run")
    finally:
        _kill([a, b])


def test_targets_that_are_neither_run_nor_recipe_are_one_sentence(db_store: Store, two_runs, tmp_path) -> None:  # noqa: F811
    a, _ = two_runs
    for target in ("no-such-run", ""):
        with pytest.raises(DiffTargetError) as caught:
            diff_targets(db_store, a, target)
        assert "\n" not in str(caught.value) and str(caught.value).endswith(".")
    with pytest.raises(DiffTargetError, match="give more of the id"):
        diff_targets(db_store, a, a[:4])  # both runs start with the same date
    broken = tmp_path / "broken.toml"
    broken.write_text('[study]\nname = "x"\n[curation]\nname = "y"\nmax_tokenz = 3\n', encoding="utf-8")
    for recipe, words in ((broken, "line"), (tmp_path / "missing.toml", "does not exist")):
        with pytest.raises(UserFacingError) as caught:
            diff_targets(db_store, str(recipe), a)
        assert words in str(caught.value) and "\n" not in str(caught.value)


RECIPE = """
[study]
name = "{name}"

[data]
path = "{raw}"

[curation]
name = "livros"
preset = "seed-notebook"
train_size = 40
test_size = {test_size}

[[formats]]
format = "openai-chat"
template = "{template}"

[[runs]]
name = "tiny"
preset = "cpu-demo"
learning_rate = {lr}

[[runs]]
name = "hosted"
backend = "together"
[runs.together]
n_epochs = {epochs}

[evaluation]
models = ["local:smollm2", "run:tiny"]
limit = {limit}
metrics = ["rougeL"]
main_metric = "rougeL"
"""


def _recipe(folder: Path, name: str, **values) -> Path:
    fields = dict(name=name, raw=str(ROOT / "dados" / "seed" / "train.jsonl"), test_size=10, template="seed-openai",
                  lr=5e-4, epochs=3, limit=20)
    fields.update(values)
    path = folder / f"{name}.toml"
    path.write_text(RECIPE.format(**fields), encoding="utf-8")
    return path


def test_two_recipes_side_by_side(store: Store, tmp_path: Path) -> None:
    a = _recipe(tmp_path, "first")
    b = _recipe(tmp_path, "second", test_size=20, template="describe", lr=1e-3, epochs=2, limit=50)
    rows = diff_targets(store, str(a), str(b))
    changed = _changed(rows)
    assert changed == {
        ("curation", "test_size"): (10, 20),
        ("format", "openai-chat-train.template.system_prompt"): ("", "You write the description of a book from its title."),
        ("format", "openai-chat-train.template.user_template"): ("{title}", "Describe the product: {title}"),
        ("hyperparameters", "tiny.learning_rate"): (5e-4, 1e-3),
        ("hyperparameters", "hosted.together.n_epochs"): (3, 2),
        ("evaluation", "limit"): (20, 50),
    }
    same = {(r.section, r.key): r.a for r in rows if r.same}
    assert same[("base model", "tiny.base_model")] == "smollm2" and same[("runs", "names")] == ["tiny", "hosted"]
    assert same[("hyperparameters", "tiny.max_steps")] == 16  # cpu-demo's, filled in
    assert same[("data", "raw fingerprint")]  # computed from the file when the recipe gives none
    assert summary(rows) == "6 differences: curation 1, format 2, hyperparameters 2, evaluation 1"
    assert diff_targets(store, str(a), str(a)) and all(r.same for r in diff_targets(store, str(a), str(a)))


def test_show_value_keeps_cells_short() -> None:
    assert show_value(None) == "—" and show_value([]) == "—" and show_value(True) == "true"
    assert show_value("a" * 64) == "a" * 12  # a sha256
    assert show_value(["q_proj", "v_proj"]) == "q_proj, v_proj"
    long = "/very/long/" * 10 + "train.jsonl"
    assert show_value(long).startswith("…") and show_value(long).endswith("train.jsonl") and len(show_value(long)) == 44


def test_the_recipe_of_what_was_made_by_clicking_loads_back_and_matches_what_exists(
        db_store: Store, tiny_model_dir: Path, tmp_path: Path) -> None:  # noqa: F811
    from core.compare import evaluate
    from core.data.curated import read_split, resolve_source
    from core.data.rawfiles import fingerprint
    from core.formats.export import default_export_path, export_training_file
    from core.formats.render import get_preset
    from core.models.registry import ensure_default_models
    from core.selection import set_current
    from core.study import lineage
    from core.study.export import NothingToExportError, export_recipe
    from core.study.recipe import load_recipe
    from core.study.steps import content_fingerprint, final_model
    from core.training.run_data import resolve_data

    with pytest.raises(NothingToExportError) as caught:
        export_recipe(db_store)
    assert "page 1" in str(caught.value) and "\n" not in str(caught.value)

    saved = save_dataset(db_store, keywords=["author"], shuffle_seed=7)   # page 1: livros@v1
    set_current(db_store, "dataset", "livros@v1")
    rows = read_split(resolve_source("livros@v1", db_store), "train")    # page 2: an export
    exported = export_training_file(rows, "openai-chat", get_preset("describe"),
                                    default_export_path("livros@v1", "openai-chat"), source="livros@v1")
    run_id = jobs.launch(db_store, tiny_config(tiny_model_dir, data="livros", learning_rate=2e-3))   # page 3
    assert _wait(db_store, run_id)["status"] == "succeeded"
    ensure_default_models(db_store)
    fine_tune = final_model(db_store, run_id)
    config = evaluate.EvalConfig(models=["local:smollm2", fine_tune], data="livros@v1", limit=3, seed=4,
                                 metrics=["rougeL", "chrf"], main_metric="rougeL", max_new_tokens=8)
    eval_id = evaluate.prepare_evaluation(db_store, config)                                   # page 5

    text = export_recipe(db_store)
    assert "sk-" not in text and "***" not in text
    path = tmp_path / "clicked.toml"
    path.write_text(text, encoding="utf-8")
    recipe = load_recipe(path)
    raw = SEED_TRAIN
    assert recipe.name == "livros" and recipe.data_path() == raw and recipe.data.fingerprint == content_fingerprint(raw)
    # curation: the preset it is closest to, and only the fields that differ from it
    assert recipe.curation.name == "livros" and recipe.curation.preset == "seed-notebook"
    assert recipe.curation.settings == {"keywords": ["author"], "shuffle_seed": 7, "train_size": 40, "test_size": 10}
    row = db_store.fetch_dicts("SELECT * FROM curated_datasets WHERE name = 'livros'")[0]
    # what the runner's curation step looks for to reuse the saved version instead of saving a new one
    assert recipe.curation.config().to_json() == row["config_json"] and fingerprint(raw) == row["input_fingerprint"]
    assert [(f.format, f.split, f.template, f.out) for f in recipe.formats] == [
        ("openai-chat", "train", "describe", str(exported.path))]
    assert len(recipe.runs) == 1 and recipe.runs[0].name.startswith("local-tiny")
    run = recipe.runs[0]
    assert run.preset == "custom" and run.settings["learning_rate"] == 2e-3 and "data" not in run.settings
    train_config = run.train_config("livros@v1")
    assert lineage.matching_run(db_store, train_config, resolve_data(db_store, train_config)) == run_id
    other = run.train_config("livros@v1")
    other.learning_rate = 1e-3
    assert lineage.matching_run(db_store, other, resolve_data(db_store, other)) is None
    e = recipe.evaluation
    assert e.models == ["local:smollm2", f"run:{run.name}"] and e.settings["limit"] == 3 and e.settings["seed"] == 4
    # with the run's model in place of run:<name>, the evaluation is the same one: its answers are reused
    assert e.eval_config("livros@v1", ["local:smollm2", fine_tune]).eval_id() == eval_id
    assert recipe.report is not None
    # asked by name, the same recipe; an unknown name is one sentence
    assert export_recipe(db_store, "livros@v1") == text
    with pytest.raises(NothingToExportError, match="no saved curated dataset"):
        export_recipe(db_store, "nada")
    assert saved["version"] == 1


def test_the_data_path_is_relative_to_a_recipe_kept_in_the_project(tmp_path: Path) -> None:
    """A file of this project in a recipe kept in this project is written relative to the recipe (a
    clone elsewhere runs it as it is); anywhere else, or with no folder (stdout), it stays absolute."""
    from core.paths import PROJECT_ROOT, sample_raw_path
    from core.study.export import _data_section

    row = {"input_path": str(sample_raw_path())}
    inside = _data_section(row, PROJECT_ROOT / "dados" / "estudos")
    assert inside["path"] == "../amostra_trn_20k.json.gz" and inside["fingerprint"].startswith("blake2b:")
    assert _data_section(row, tmp_path)["path"] == str(sample_raw_path().resolve())
    assert _data_section(row)["path"] == str(sample_raw_path().resolve())
