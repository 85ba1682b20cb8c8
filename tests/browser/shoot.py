"""Screenshot pages of the running app: a tool for looking at what we build.

    .venv/bin/python -m tests.browser.shoot /tmp/shots dados formatos   # start the app, shoot those pages

Starts the app on a free port with a throwaway results folder (or --results DIR to reuse one).
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from tests.browser.harness import browser_page, page_errors, running_app, wait_idle


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("pages", nargs="*", default=["dados", "formatos", "treino", "playground", "resultados"])
    parser.add_argument("--results", help="results folder to run the app on (default: a new temporary one)")
    parser.add_argument("--lang", default="", help="'en' to switch the sidebar to English first")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = Path(args.results or tempfile.mkdtemp(prefix="ftdash-shots-"))
    with running_app(results) as url, browser_page() as page:
        for name in args.pages:
            page.goto(f"{url}/{name}")
            wait_idle(page, 180)
            page.screenshot(path=str(out / f"{name}.png"), full_page=True)
            print(name, "errors:", page_errors(page))


if __name__ == "__main__":
    main()
