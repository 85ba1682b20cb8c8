"""The project's shape: core/ never imports streamlit, processes start without a shell, modules stay readable."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _python_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def test_core_never_imports_streamlit() -> None:
    offenders = []
    for path in _python_files("core"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(n == "streamlit" or n.startswith("streamlit.") for n in names):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_no_process_is_started_through_a_shell() -> None:
    """Every call with a ``shell`` argument passes the constant False (an argument list, no shell):
    read from the syntax tree, so neither a variable nor a True slips through."""
    offenders = []
    for folder in ("core", "paginas", "ui", "bench", "tests", "locales"):
        for path in _python_files(folder):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call):
                    for keyword in node.keywords:
                        if keyword.arg == "shell" and not (isinstance(keyword.value, ast.Constant)
                                                           and keyword.value.value is False):
                            offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_every_module_has_a_docstring() -> None:
    for folder in ("core", "paginas", "ui", "locales"):
        for path in _python_files(folder):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            assert ast.get_docstring(tree), f"{path.relative_to(ROOT)} has no module docstring"


def test_streamlit_skips_its_full_collection_after_every_run() -> None:
    """Streamlit's gc.collect(2) after each script run cost ~0.4 s with torch loaded; ten sessions'
    live fragments made it the whole app's work. The repo's .streamlit/config.toml turns it off."""
    shown = subprocess.run(
        [sys.executable, "-c", "from streamlit import config; print(config.get_option('runner.postScriptGC'))"],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=120)
    assert shown.stdout.strip().splitlines()[-1] == "False"


def _imports(path: Path) -> list[str]:
    """Every module a file imports, at any depth (lazy imports inside functions count too)."""
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names += [node.module] + [f"{node.module}.{a.name}" for a in node.names]
    return names


def test_core_never_imports_locales() -> None:
    """UI words live in locales/ and are used by paginas/ and ui/ only; core/ speaks English to the CLI."""
    offenders = [str(p.relative_to(ROOT)) for p in _python_files("core")
                 if any(n == "locales" or n.startswith("locales.") for n in _imports(p))]
    assert offenders == []


def _core_modules() -> dict[str, Path]:
    found = {}
    for path in _python_files("core"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def test_core_has_no_import_circles() -> None:
    """Modules form a tree of dependencies (lazy imports included): a circle means two modules are one."""
    modules = _core_modules()

    def owner(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph = {}
    for name, path in modules.items():
        deps = {owner(n) for n in _imports(path) if n.startswith("core")}
        graph[name] = {d for d in deps if d and d != name and not name.startswith(d + ".")}
    circles = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                circles.append(" -> ".join(path[path.index(dep):] + [dep]))
            elif dep not in state:
                visit(dep, path + [dep])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert circles == []


def test_the_training_subprocess_never_loads_the_store() -> None:
    """The trainer runs beside the app, which holds the database: it must not import duckdb or the
    store (nor the supervisor that does), or a second process could try to open the file."""
    code = ("import sys, core.training.trainer, core.training.backends.local, core.training.backends.openai_backend; "
            "print(sorted(m for m in sys.modules if m == 'duckdb' or m.startswith(('core.store', 'core.training.jobs'))))")
    shown = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert shown.stdout.strip().splitlines()[-1] == "[]"


def _readme_tree() -> list[str]:
    """The folders the README's layout picture names (``core/`` then its indented ``data/`` -> core/data)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("## How the code is laid out", 1)[1].split("```", 2)[1]
    folders, parents = [], []
    for line in block.splitlines():
        stripped = line.lstrip()
        if not stripped:
            continue
        indent = len(line) - len(stripped)
        parents = [(i, p) for i, p in parents if i < indent]
        for word in stripped.split("  ")[0].split():
            if word.endswith("/"):
                prefix = parents[-1][1] if parents else ""
                folders.append(prefix + word)
        first = stripped.split()[0]
        if first.endswith("/"):
            parents.append((indent, (parents[-1][1] if parents else "") + first))
    return folders


def test_every_folder_the_readme_names_exists() -> None:
    folders = _readme_tree()
    assert "core/" in folders and len(folders) > 10
    assert [f for f in folders if not (ROOT / f).is_dir()] == []


def test_modules_stay_readable() -> None:
    """Modules under ~500 lines; pages, which read top-down as the user sees them, under ~200."""
    long_modules = [f"{p.relative_to(ROOT)} ({n})" for folder in ("core", "ui", "locales")
                    for p in _python_files(folder) if (n := len(p.read_text(encoding="utf-8").splitlines())) > 520]
    long_pages = [f"{p.relative_to(ROOT)} ({n})" for p in _python_files("paginas")
                  if (n := len(p.read_text(encoding="utf-8").splitlines())) > 220]
    assert long_modules == [] and long_pages == []
