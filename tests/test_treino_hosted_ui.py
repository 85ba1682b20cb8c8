"""Page 3's Together and Fireworks panels (ui/treino_hosted.py), driven with AppTest by their keys
against the fake servers (tests/fake_together.py, tests/fake_fireworks.py; the official clients talk
to them over HTTP through TOGETHER_BASE_URL / FIREWORKS_BASE_URL): a job launched from the page
runs in its own process to the end, its fine-tuned model joins the registry, a typed key is found
nowhere on disk, and a Fireworks result is deployed only after its cost was said and confirmed.

    .venv/bin/python -m pytest -q tests/test_treino_hosted_ui.py
"""
from __future__ import annotations

import time
from pathlib import Path

from conftest import run_page
from fake_fireworks import FakeFireworks, fake_fireworks_fixture  # noqa: F401 - the fixture
from fake_together import FAKE_KEY as TOGETHER_KEY
from fake_together import FakeTogether, JobPlan, fake_together_fixture  # noqa: F401 - the fixture
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
SEED_FILE = ROOT / "dados" / "seed" / "trn_gpt4_formatted.jsonl"


def _export(results: Path) -> Path:
    """An exported OpenAI-chat file where page 3 looks for them (FTDASH_DATA/export)."""
    folder = results.parent / "dados" / "export"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "books_openai-chat.jsonl"
    path.write_text("\n".join(SEED_FILE.read_text(encoding="utf-8").splitlines()[:12]) + "\n", encoding="utf-8")
    return path


def _app(lang: str = "en") -> AppTest:
    return run_page("3_treino.py", lang)


def _launch(at: AppTest) -> str:
    at.number_input(key=f"treino.{at.radio(key='treino.backend').value}.poll_interval_s").set_value(0.05).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    at.button(key="treino.launch").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at.session_state["treino.run"]


def _until_ended(at: AppTest, timeout_s: float = 120) -> str:
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        status = next((m.value for m in at.markdown if "**" in m.value), "")
        if any(word in status for word in ("succeeded", "failed", "cancelled", "lost")):
            return status
        time.sleep(0.5)
        at.run()
    raise AssertionError("the run did not end: " + "\n".join(m.value for m in at.markdown))


def _on_disk(folder: Path, secret: str) -> list[str]:
    return [str(p) for p in folder.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]


def test_a_together_job_launched_from_the_page_with_a_typed_key(isolated_results: Path, fake_together: FakeTogether,
                                                                 monkeypatch) -> None:
    monkeypatch.delenv("TOGETHER_API_KEY")   # the key is typed on the page
    _export(isolated_results)
    at = _app()
    at.radio(key="treino.backend").set_value("together").run()
    assert not at.exception
    assert any("Together" in c.value and "open to every account" in c.value for c in at.caption)
    assert at.selectbox(key="treino.together.model").value == "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference"
    assert all(o.endswith(".jsonl · exported file") for o in at.selectbox(key="treino.data.together").options)
    assert any("TOGETHER_API_KEY" in i.value for i in at.info)
    assert not [b for b in at.button if b.key == "treino.launch"]   # no key yet
    at.text_input(key="treino.together.api_key").input(TOGETHER_KEY).run()
    at.number_input(key="treino.together.lora_rank").set_value(16)
    at.number_input(key="treino.together.n_epochs").set_value(2)
    at.text_input(key="treino.together.suffix").input("page3").run()
    run_id = _launch(at)
    assert [m.value for m in at.success] == [f"Run {run_id} launched: its status and progress show below."]
    status = _until_ended(at)
    assert "succeeded" in status and "together" in status, status + "\n".join(e.value for e in at.error)
    created = fake_together.calls("POST", r"/fine-tunes$")[-1].json()
    assert (created["n_epochs"], created["suffix"]) == (2, "page3")
    assert created["training_type"]["lora_r"] == 16
    captions = "\n".join(c.value for c in at.caption)
    assert "Together job: ft-" in captions and "Fine-tuned model: fakeuser/" in captions
    assert "the provider quoted $" in captions   # Together's quote beside the estimate made at launch
    assert len(at.get("plotly_chart")) >= 1   # Together's per-step loss
    from core.store.compare import get_model
    from ui.common import get_store

    output = at.session_state["treino.run"] and next(line.split(": ", 1)[1] for line in captions.splitlines()
                                                      if line.startswith("Fine-tuned model: "))
    model = get_model(get_store(), f"together:{output}")
    assert model and model["kind"] == "together-finetune"
    assert _on_disk(isolated_results, TOGETHER_KEY) == []   # not in the database, the run folder, the log


def test_cancel_a_together_job_from_the_page_then_continue_it(isolated_results: Path,
                                                               fake_together: FakeTogether) -> None:
    """Cancel asks the run's process to cancel the remote job; Resume continues it as a new job from
    the last checkpoint (Together's from_checkpoint), and the run ends succeeded."""
    fake_together.plan = JobPlan(steps=150)
    _export(isolated_results)
    at = _app()
    at.radio(key="treino.backend").set_value("together").run()
    run_id = _launch(at)
    deadline = time.time() + 60
    while time.time() < deadline and not any(c.get("step", 0) >= 4 for j in fake_together.jobs.values()
                                             for c in j.checkpoints):
        time.sleep(0.2)
    at.run()
    at.button(key=f"treino.cancel.{run_id}").click().run()
    assert "cancelled" in _until_ended(at)
    assert len(fake_together.calls("POST", r"/cancel$")) == 1
    fake_together.plan = JobPlan(steps=4)
    at.button(key=f"treino.resume.{run_id}").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    at.run()
    assert "succeeded" in _until_ended(at)
    sent = fake_together.calls("POST", r"^/v1/fine-tunes$")[-1].json()
    assert sent["from_checkpoint"].startswith(next(iter(fake_together.jobs)) + ":")


def test_a_fireworks_job_then_deploy_only_after_its_cost_was_confirmed(isolated_results: Path,
                                                                         fake_fireworks: FakeFireworks) -> None:
    _export(isolated_results)
    at = _app()
    at.radio(key="treino.backend").set_value("fireworks").run()
    assert not at.exception
    assert any("deployed before it answers" in c.value for c in at.caption)
    assert any("FIREWORKS_ACCOUNT_ID: fake-acct" in c.value for c in at.caption)
    assert any("FIREWORKS_API_KEY" in c.value for c in at.caption)   # the environment's key is used
    run_id = _launch(at)
    status = _until_ended(at)
    assert "succeeded" in status and "fireworks" in status, status + "\n".join(e.value for e in at.error)
    assert fake_fireworks.calls("POST", r"/supervisedFineTuningJobs")
    output = next(c.value.split(": ", 1)[1] for c in at.caption if c.value.startswith("Fine-tuned model: "))
    assert [p.proto.text.split(" · ")[0] for p in at.get("progress")] == ["100% done"]   # percent, not steps
    assert output.startswith("accounts/fake-acct/models/")
    # asked first, with its cost; "Not now" deploys nothing
    deploy = f"treino.fireworks.deploy.{run_id}"
    at.button(key=deploy).click().run()
    assert any("costs money" in w.value and "$0.20 in" in w.value for w in at.warning), [w.value for w in at.warning]
    assert not fake_fireworks.deployed
    at.button(key=f"treino.fireworks.deploy_no.{run_id}").click().run()
    at.run()
    assert not [w for w in at.warning if "costs money" in w.value] and not fake_fireworks.deployed
    at.button(key=deploy).click().run()
    at.button(key=f"treino.fireworks.deploy_yes.{run_id}").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert output in fake_fireworks.deployed
    assert any(output in s.value and "deployed" in s.value for s in at.success)


def test_the_hosted_panels_in_portuguese(isolated_results: Path, fake_fireworks: FakeFireworks) -> None:
    _export(isolated_results)
    at = _app("pt")
    at.radio(key="treino.backend").set_value("fireworks").run()
    assert not at.exception
    assert at.selectbox(key="treino.fireworks.model").label == "Modelo base na Fireworks"
    assert "US$ 0,50 por 1M de tokens" in at.selectbox(key="treino.fireworks.model").options[0]
    assert at.number_input(key="treino.fireworks.n_epochs").help.startswith("Passadas")
