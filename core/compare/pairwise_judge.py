"""The pairwise LLM judge: "which answer is better for this title, A or B?", asked in both orders.

Any registry model judges (core/models/generate.py: OpenAI, an OpenAI-compatible endpoint, a local
model; ``local:smollm2`` works offline, a poor judge but a real one). Each pair is asked twice, with
the answers swapped; a verdict counts only when both orders pick the same answer (otherwise the
judge followed the position, not the answer: an inconsistent pair counts as a tie). Verdicts are
cached in the judge_verdicts table (core/store/ratings.py) by judge, question and the two answers'
hashes in their order, so asking again costs nothing. ``cached_only`` never calls a model (the xlsx).

    verdicts = judge_pairs(store, "local:smollm2", [PairItem("Dune", ref, answer_1, answer_2)])
    verdicts[0].pick            # "x" | "y" | "tie" (inconsistent) | None (a verdict missing)
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from core.errors import UserFacingError
from core.store import Store
from core.store import ratings as db

# Bump when the prompt changes: old cached verdicts answered another question.
PROMPT_VERSION = "pairwise-v1"
PAIRWISE_PROMPT = """You compare two answers written by models that were given only a book's title and asked to describe the book.
{reference_block}TITLE: {title}

ANSWER A: {first}

ANSWER B: {second}

Which answer describes this book better (right subject and facts, fluent, no repetition)? Reply with one line,
exactly "WINNER: A", "WINNER: B" or "WINNER: TIE"."""
REFERENCE_BLOCK = "The book's real description from the dataset (the REFERENCE) is:\n{reference}\n\n"
BATCH = 16  # verdicts are saved after each batch: a stopped run keeps what it asked

Ask = Callable[[list[str]], list[tuple[str | None, str | None]]]  # prompts -> (text, error) each
Progress = Callable[[str, int, int], None]  # (phase, done, total)

_EXPLICIT = re.compile(r"\b(?:winner|verdict|better(?:\s+answer)?|answer|choice|vencedor)\b(?:[ \t]*(?:is|:|=|-))*"
                       r"[ \t]*[\"'*(\[]*[ \t]*(A|B|tie|empate)\b(?![ \t]+[A-Z][a-z])", re.I)
_TIE = re.compile(r"\b(tie|both (?:are )?(?:equal|equally|the same)|equally good|empate)\b", re.I)
# A letter alone ("B", "I prefer B.", "(A)"), never the article of a sentence ("A Guidebook to…").
_LETTER = re.compile(r"(?<![\w'])(A|B)(?=\s*$|\s*[.,;:!?)\]\"'*]|\s*\n)")


class JudgeFailedError(UserFacingError):
    """Every call to the judge failed (no key, a server down): one sentence with the first error."""


@dataclass(frozen=True)
class PairItem:
    """One question and two answers, x and y (x is shown first in the forward order)."""

    title: str
    reference: str | None
    x: str
    y: str


@dataclass(frozen=True)
class PairVerdict:
    """The judge on one pair, in both orders (verdicts as positions: a = first shown)."""

    forward: str | None   # x shown as A
    backward: str | None  # y shown as A
    asked: bool = True    # both orders were asked (a verdict may still be None: a text naming neither)

    @property
    def complete(self) -> bool:
        return self.forward is not None and self.backward is not None

    @property
    def forward_pick(self) -> str | None:
        return {"a": "x", "b": "y", "tie": "tie"}.get(self.forward or "")

    @property
    def backward_pick(self) -> str | None:
        return {"a": "y", "b": "x", "tie": "tie"}.get(self.backward or "")

    @property
    def consistent(self) -> bool:
        return self.complete and self.forward_pick == self.backward_pick

    @property
    def pick(self) -> str | None:
        """x, y or tie (an inconsistent pair is a tie); None when a verdict is missing."""
        if not self.complete:
            return None
        return self.forward_pick if self.consistent else "tie"

    @property
    def first_wins(self) -> int:
        """How many of the two verdicts chose the answer shown first (0..2)."""
        return int(self.forward == "a") + int(self.backward == "a")


def parse_verdict(text: str | None) -> str | None:
    """a, b or tie from the judge's text: the last "WINNER: X" (or "answer B is better"...), a bare
    letter, or the only one of A/B named; None when it names neither or both without saying which."""
    if not text:
        return None
    explicit = list(_EXPLICIT.finditer(text))
    if explicit:
        word = explicit[-1].group(1).lower()
        return "tie" if word in ("tie", "empate") else word
    bare = text.strip().strip("*.\"' ").lower()
    if bare in ("a", "b"):
        return bare
    if bare in ("tie", "empate") or _TIE.search(text):
        return "tie"
    letters = {m.group(1).lower() for m in _LETTER.finditer(text)}
    return letters.pop() if len(letters) == 1 else None


def sha(text: str | None) -> str:
    return hashlib.sha256((text or "").encode("utf-8")).hexdigest()[:32]


def question_sha(title: str, reference: str | None) -> str:
    return sha(f"{PROMPT_VERSION}\n{title}\n{reference or ''}")


def pairwise_prompt(title: str, reference: str | None, first: str, second: str) -> str:
    block = REFERENCE_BLOCK.replace("{reference}", reference) if reference else ""
    # str.replace, not format: answers may hold braces of their own.
    return (PAIRWISE_PROMPT.replace("{reference_block}", block).replace("{title}", title)
            .replace("{first}", first or "(empty)").replace("{second}", second or "(empty)"))


def model_asker(store: Store, judge_model: str, max_new_tokens: int = 24, api_key: str | None = None) -> Ask:
    """Ask a registry model (greedy, short answers: the verdict is one line)."""
    from core.models.answers import GenerationSettings
    from core.models.generate import generate_batch
    from core.models.registry import get_registered

    get_registered(store, judge_model)  # an unknown judge fails now, in one sentence
    settings = GenerationSettings(temperature=0.0, max_new_tokens=max_new_tokens, user_template="{title}")

    def ask(prompts: list[str]) -> list[tuple[str | None, str | None]]:
        return [(a.text, a.error) for a in generate_batch(store, judge_model, prompts, settings, batch_size=8,
                                                          api_key=api_key)]
    return ask


def judge_pairs(store: Store, judge_model: str, items: Sequence[PairItem], *, ask: Ask | None = None,
                cached_only: bool = False, on_progress: Progress | None = None,
                api_key: str | None = None) -> list[PairVerdict]:
    """Both orders of every pair: cached verdicts first, then the judge for the rest (in batches,
    saved as they come). Failed calls are not cached (a rerun asks again); unreadable texts are."""
    keys = []
    for item in items:
        q = question_sha(item.title, item.reference)
        keys.append(((q, sha(item.x), sha(item.y)), (q, sha(item.y), sha(item.x))))
    wanted = list(dict.fromkeys(k for pair in keys for k in pair))
    # Cached texts are parsed again: a better parser reads old answers without asking the judge again.
    known = {k: parse_verdict(raw) for k, (_, raw) in db.cached_verdicts(store, judge_model, wanted).items()}
    missing = [k for k in wanted if k not in known]
    if missing and not cached_only:
        texts: dict[tuple[str, str, str], tuple[str, str | None, str, str]] = {}
        for item, (fwd, bwd) in zip(items, keys):
            texts[fwd] = (item.title, item.reference, item.x, item.y)
            texts[bwd] = (item.title, item.reference, item.y, item.x)
        asker = ask or model_asker(store, judge_model, api_key=api_key)
        errors: list[str] = []
        for start in range(0, len(missing), BATCH):
            chunk = missing[start:start + BATCH]
            prompts = [pairwise_prompt(*texts[key]) for key in chunk]
            rows = []
            for key, (text, error) in zip(chunk, asker(prompts)):
                if error:
                    errors.append(error)
                    continue  # not cached: the next run asks again
                verdict = parse_verdict(text)
                known[key] = verdict
                rows.append((*key, verdict, text or ""))
            db.save_verdicts(store, judge_model, rows)
            if on_progress:
                on_progress("judge", min(start + BATCH, len(missing)), len(missing))
        if errors and len(errors) == len(missing):  # not one answer: say why rather than show an empty row
            raise JudgeFailedError(f"The judge {judge_model} answered none of {len(missing)} questions: {errors[0]}")
    return [PairVerdict(known.get(fwd), known.get(bwd), fwd in known and bwd in known) for fwd, bwd in keys]
