"""The app's background run of a study recipe: the CLI's own command in a detached subprocess.

    launch = start_study("dados/estudos/seed-study.toml")   # python -m core study run ... --progress FILE
    state = study_state(launch.study)     # steps with their status, the current one, done/of, ended?, alive?
    stop_study(launch.study)              # SIGTERM to its process group; the next start goes on from there
    path = save_recipe_upload("mine.toml", data)   # an uploaded recipe, checked, kept under <data>/estudos/

The page does not run the steps itself: it starts ``python -m core study run RECIPE --progress FILE``
(start_new_session, so a closed tab, a reload or a page's script run ending does not touch it) and
reads the progress file back. While the app runs, that command hands its SQL to the app
(core/store/remote.py), like every CLI command beside the app, so the one-writer rule holds.

Everything lives in ``<results dir>/studies/<study name>/``: ``pid.json`` (pid, recipe, start time;
no environment, so no secret), ``progress.jsonl`` (the runner's JSON lines: plan, step events, end)
and ``log.txt`` (the command's stdout and stderr). A page reload, a second tab or an app restart
finds the run there again. One run per study at a time: a second start is refused in one sentence.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import UserFacingError
from core.paths import PROJECT_ROOT, data_dir, results_dir
from core.processes import Children, start_detached, write_json
from core.study.steps import KEY_VARIABLES

PID_FILE = "pid.json"
PROGRESS_FILE = "progress.jsonl"
LOG_FILE = "log.txt"
LOCK_FILE = ".launch.lock"
STOP_GRACE_S = 10.0   # after SIGTERM, how long before the process group gets SIGKILL
RECIPE_SUFFIXES = (".toml",)
_CHILDREN = Children()   # started by this process, so that polling them reaps them


class StudyRunningError(UserFacingError):
    """That study is already running (one run per study at a time)."""


class StudyLaunchError(UserFacingError):
    """The study's process could not be started, or the recipe file is not there."""


@dataclass(frozen=True)
class StudyLaunch:
    """A started run: its study, folder, process and files."""

    study: str
    recipe: Path
    folder: Path
    pid: int
    progress: Path
    log: Path


# -- where -----------------------------------------------------------------------------------------
def studies_dir() -> Path:
    return results_dir() / "studies"


def study_dir(study: str) -> Path:
    return studies_dir() / study


def bundled_recipes_dir() -> Path:
    """The recipes that ship with the project (seed-study.toml)."""
    return PROJECT_ROOT / "dados" / "estudos"


def user_recipes_dir() -> Path:
    """Where uploaded recipes are kept: the data folder's ``estudos/`` (the bundled folder by default)."""
    return data_dir() / "estudos"


def list_recipes() -> list[Path]:
    """Bundled recipes, then uploaded ones (one entry per file, sorted by name in each folder)."""
    seen: list[Path] = []
    for folder in (bundled_recipes_dir(), user_recipes_dir()):
        for path in sorted(folder.resolve().glob("*")) if folder.is_dir() else []:
            if path.suffix in RECIPE_SUFFIXES and path.is_file() and path not in seen:
                seen.append(path)   # resolved, as start_study records it: a reloaded page finds its run's recipe
    return seen


def study_name(recipe_path: str | Path) -> str:
    """The ``[study] name`` of a recipe (its errors are the recipe's one sentence)."""
    from core.study.recipe import load_recipe

    return load_recipe(recipe_path).name


# -- an uploaded recipe ----------------------------------------------------------------------------
def save_recipe_upload(filename: str, data: bytes, folder: Path | None = None) -> Path:
    """Check an uploaded recipe and keep it in ``folder`` (default ``user_recipes_dir()``), where its
    relative paths resolve. The same bytes already there are that file; a different file of that
    name is never overwritten: the new one becomes ``name-2.toml``, ``name-3.toml``..."""
    from core.study.recipe import RecipeError, parse_recipe

    folder = folder or user_recipes_dir()
    stem = _safe_stem(filename)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise RecipeError(f"{filename}: the file is not UTF-8 text; a recipe is a TOML text file.") from None
    parse_recipe(text, folder, filename)   # a bad recipe raises its one sentence; nothing is written
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(1, 1000):
        path = folder / (f"{stem}.toml" if n == 1 else f"{stem}-{n}.toml")
        if path.exists():
            if path.read_bytes() == data:
                return path
            continue
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
        return path
    raise StudyLaunchError(f"There are too many recipes named {stem!r} in {folder}; rename the file.")


def _safe_stem(filename: str) -> str:
    """The file's name without folders or odd characters (an upload names itself)."""
    stem = Path(str(filename).replace("\\", "/")).name
    stem = stem[: -len(Path(stem).suffix)] if Path(stem).suffix else stem
    cleaned = "".join(c if c.isalnum() or c in "-_." else "-" for c in stem).strip(".-")
    return cleaned[:80] or "recipe"


# -- start, follow, stop ---------------------------------------------------------------------------
@contextlib.contextmanager
def _launch_lock(folder: Path) -> Iterator[None]:
    """Two tabs pressing Run at once: the second waits, then sees the first one's run."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / LOCK_FILE, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def study_command(recipe: Path, progress: Path, accept_changed_data: bool = False) -> list[str]:
    return [sys.executable, "-m", "core", "study", "run", str(recipe), "--progress", str(progress),
            *(["--accept-changed-data"] if accept_changed_data else [])]


def start_study(recipe_path: str | Path, accept_changed_data: bool = False,
                keys: dict[str, str] | None = None) -> StudyLaunch:
    """Start ``python -m core study run RECIPE --progress FILE`` in the background and return at once.
    The recipe is read first (a bad one raises its one sentence); a study already running is refused.
    ``keys`` (API keys typed on page 6 or read from st.secrets) reach only the process's environment,
    like an exported variable: never the pid file, the log, the database or a run folder."""
    recipe = Path(recipe_path).expanduser().resolve()
    if not recipe.is_file():
        raise StudyLaunchError(f"There is no recipe file {recipe_path}.")
    study = study_name(recipe)
    folder = study_dir(study)
    with _launch_lock(folder):
        running = _read_pid(folder)
        if running and _alive(running):
            raise StudyRunningError(
                f"The study {study!r} is already running (since {_clock(running.get('started_at'))}); "
                "wait for it to end or stop it first.")
        progress, log_path = folder / PROGRESS_FILE, folder / LOG_FILE
        for old in (progress, log_path):   # the previous run's files are kept beside, one generation
            if old.exists():
                os.replace(old, old.with_name(f"previous-{old.name}"))
        progress.touch()
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.update({name: value for name, value in (keys or {}).items() if name in KEY_VARIABLES and value})
        command = study_command(recipe, progress, accept_changed_data)
        try:
            process = start_detached(command, env, log_path)
        except OSError as exc:
            raise StudyLaunchError(f"The study's process could not be started ({exc.strerror or exc}).") from None
        _CHILDREN.add(study, process)
        write_json(folder / PID_FILE, {"pid": process.pid, "study": study, "recipe": str(recipe),
                                        "started_at": time.time(), "create_time": _create_time(process.pid),
                                        "command": command[1:]})
    return StudyLaunch(study, recipe, folder, process.pid, progress, log_path)


def stop_study(study: str, grace_s: float = STOP_GRACE_S, wait: bool = False) -> dict[str, Any]:
    """SIGTERM to the study's process group (SIGKILL after ``grace_s``); a training run it started,
    in a process group of its own, is asked to stop through its cancel file. The next start of the
    recipe reuses every step that finished. Returns the state (``wait`` for the process to end)."""
    folder = study_dir(study)
    info = _read_pid(folder)
    if not info or not _alive(info):
        raise StudyRunningError(f"The study {study!r} is not running.")
    pid = int(info["pid"])
    info["stop_requested_at"] = time.time()
    write_json(folder / PID_FILE, info)
    _cancel_trainers(pid)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)

    def escalate() -> None:
        end = time.time() + grace_s
        while time.time() < end and _alive(info):
            time.sleep(0.2)
        if _alive(info):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)

    if wait:
        escalate()
    else:
        threading.Thread(target=escalate, daemon=True, name=f"stop-study-{study}").start()
    return study_state(study)


def _cancel_trainers(pid: int) -> None:
    """Training processes started by the study (``python -m core.training.trainer RUN_DIR``) run in
    sessions of their own: touch their cancel file so they stop cleanly and record it."""
    try:
        import psutil

        children = psutil.Process(pid).children(recursive=True)
    except Exception:  # gone already, or psutil cannot see it: nothing to cancel
        return
    from core.training.backends.base import CANCEL_FILE

    for child in children:
        with contextlib.suppress(Exception):
            args = child.cmdline()
            if "core.training.trainer" in args:
                run_dir = Path(args[args.index("core.training.trainer") + 1])
                if run_dir.is_dir():
                    (run_dir / CANCEL_FILE).touch()


def study_state(study: str, log_lines: int = 20) -> dict[str, Any]:
    """What the study's folder says now: ``status`` (none | running | succeeded | failed | stopped |
    lost), ``alive``, ``steps`` (step, index, status, message, done, of) in plan order, ``current``
    (the step running), ``done``/``of`` of the current step, ``steps_done``/``steps_total``,
    ``counts`` per status, ``ended``, ``message``, ``wall_s``, ``recipe`` and the log's tail."""
    folder = study_dir(study)
    info = _read_pid(folder) or {}
    events = read_progress(folder / PROGRESS_FILE)
    alive = bool(info) and _alive(info)
    steps: dict[str, dict[str, Any]] = {}
    end: dict[str, Any] | None = None
    for event in events:
        if event.get("event") == "plan":
            steps = {name: {"step": name, "index": i, "status": "pending", "message": "", "done": None, "of": None}
                     for i, name in enumerate(event.get("steps") or [])}
        elif event.get("event") == "step" and event.get("step"):
            row = steps.setdefault(event["step"], {"step": event["step"], "index": event.get("index", len(steps)),
                                                   "status": "pending", "message": "", "done": None, "of": None})
            status = event.get("status") or row["status"]
            row["status"] = "running" if status in ("started", "progress") else status
            row["message"] = event.get("message") or row["message"]
            if event.get("of"):
                row["done"], row["of"] = event.get("done"), event.get("of")
        elif event.get("event") == "end":
            end = event
    rows = sorted(steps.values(), key=lambda r: r["index"])
    current = next((r for r in rows if r["status"] == "running"), None)
    if not alive and current is not None:
        current["status"] = "stopped" if info.get("stop_requested_at") else "interrupted"
        current = None
    if end is not None:
        status = "succeeded" if end.get("status") == "succeeded" else "failed"
    elif alive:
        status = "running"
    elif not info:
        status = "none"
    elif info.get("stop_requested_at"):
        status = "stopped"
    else:   # ended without its end line: the command refused to start (its error line), or was killed
        refused = _error_line(folder / LOG_FILE)
        status, end = ("failed", {"message": refused}) if refused else ("lost", None)
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    started = info.get("started_at")
    ended_at = (end or {}).get("t") or (None if alive else _last_write(folder))
    wall = (float(ended_at) if ended_at else time.time()) - float(started) if started else None
    return {
        "study": study, "status": status, "alive": alive, "ended": not alive and bool(info),
        "pid": info.get("pid"), "recipe": info.get("recipe"), "started_at": started,
        "stop_requested": bool(info.get("stop_requested_at")), "steps": rows,
        "current": current["step"] if current else None,
        "done": current["done"] if current else None, "of": current["of"] if current else None,
        "steps_total": len(rows), "steps_done": sum(r["status"] in FINISHED for r in rows),
        "counts": counts, "message": (end or {}).get("message") or "", "wall_s": wall,
        "log_tail": log_tail(folder / LOG_FILE, log_lines) if status in ("failed", "lost") else "",
    }


FINISHED = ("done", "reused", "skipped", "failed")


def running_studies() -> list[dict[str, Any]]:
    """The studies whose process runs now (a page opened mid-run shows this one), newest first."""
    found = []
    for folder in sorted(studies_dir().glob("*")) if studies_dir().is_dir() else []:
        info = _read_pid(folder)
        if info and _alive(info):
            found.append(info)
    return sorted(found, key=lambda i: -float(i.get("started_at") or 0))


def read_progress(path: Path) -> list[dict[str, Any]]:
    """The progress file's events; a line still being written (no newline yet) is left for later."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return []
    events = []
    for line in text.splitlines(keepends=True):
        if not line.endswith("\n"):
            break
        with contextlib.suppress(ValueError):
            event = json.loads(line)
            if isinstance(event, dict):
                events.append(event)
    return events


def _last_write(folder: Path) -> float | None:
    stamps = [p.stat().st_mtime for p in (folder / PROGRESS_FILE, folder / LOG_FILE) if p.exists()]
    return max(stamps) if stamps else None


def _error_line(path: Path) -> str:
    """The CLI's ``error: <one sentence>`` line, when the command stopped on one."""
    for line in reversed(log_tail(path, 5).splitlines()):
        if line.startswith("error: "):
            return line[len("error: "):].strip()
    return ""


def log_tail(path: Path, lines: int = 20) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 16384))
            return "\n".join(handle.read().decode("utf-8", "replace").splitlines()[-lines:])
    except OSError:
        return ""


# -- the process -------------------------------------------------------------------------------------
def _read_pid(folder: Path) -> dict[str, Any] | None:
    try:
        info = json.loads((folder / PID_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) and info.get("pid") else None


def _create_time(pid: int) -> float | None:
    with contextlib.suppress(Exception):
        import psutil

        return float(psutil.Process(pid).create_time())
    return None


def _alive(info: dict[str, Any]) -> bool:
    """Whether the recorded process still runs this study (not a zombie, not a reused pid)."""
    study = info.get("study")
    child = _CHILDREN.get(str(study))
    if child is not None and child.pid == info.get("pid"):
        return child.poll() is None   # also reaps it once it ended
    import psutil

    try:
        proc = psutil.Process(int(info["pid"]))
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        created = info.get("create_time")
        if created is not None:
            return abs(proc.create_time() - float(created)) < 1.0
        return "study" in proc.cmdline()
    except (psutil.Error, ValueError, OSError, KeyError):
        return False


def _clock(stamp: Any) -> str:
    return time.strftime("%H:%M:%S", time.localtime(float(stamp))) if stamp else "?"
