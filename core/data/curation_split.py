"""Whether the rows the filters keep fill the train + test split asked for, and the fix that keeps
the asked train:test ratio over what is left.

The split takes the first ``train_size`` kept rows for train and the next ``test_size`` for test,
so a short curation fills train first and can leave test empty (the bundled sample's old
"Train 126 / Test 0"). Page 1 shows ``SplitShortfall`` beside its numbers with a button for the fix;
``python -m core curate`` prints ``sentence()`` as one warning line.

    short = split_shortfall(kept=126, train_size=1500, test_size=500)
    short.train, short.test            # 126, 0: what the split gets
    short.fix_train, short.fix_test    # 94, 32: 3:1, as asked, over the 126 rows kept
    split_shortfall(2364, 1500, 500)   # None: enough rows
"""
from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class SplitShortfall:
    """Fewer rows kept than train + test ask: what each split gets, and a split that fits."""

    kept: int
    train_size: int
    test_size: int
    train: int
    test: int
    fix_train: int
    fix_test: int

    @property
    def no_test(self) -> bool:
        """A test split was asked for and gets no row: nothing to evaluate on (pages 3-5)."""
        return self.test_size > 0 and self.test == 0

    @property
    def ratio(self) -> str:
        """The asked train:test ratio in small whole numbers (1500:500 -> "3:1")."""
        divisor = math.gcd(self.train_size, self.test_size) or 1
        return f"{self.train_size // divisor}:{self.test_size // divisor}"

    def sentence(self) -> str:
        """One line for the CLI (the page words the same facts from locales/)."""
        return (f"the filters kept {self.kept:,} rows, fewer than --train {self.train_size} + --test "
                f"{self.test_size}: train gets {self.train:,}, test {self.test:,}"
                + (" (nothing to evaluate on)" if self.no_test else "")
                + f"; --train {self.fix_train} --test {self.fix_test} keeps the {self.ratio} ratio.")


def ratio_split(kept: int, train_size: int, test_size: int) -> tuple[int, int]:
    """``kept`` rows cut in the ratio train_size:test_size, rounding half up for test, and at least
    one test row when a test split was asked for and two rows are left (so there is one to score)."""
    asked = train_size + test_size
    if asked == 0 or kept <= 0:
        return 0, 0
    test = math.floor(kept * test_size / asked + 0.5)
    if test_size > 0 and kept >= 2:
        test = max(1, min(test, kept - 1)) if train_size > 0 else kept
    return kept - test, test


def split_shortfall(kept: int, train_size: int, test_size: int) -> SplitShortfall | None:
    """None when the kept rows fill train and test; else what each gets and a fix in the asked ratio.
    No row kept is not a shortfall to fix by resizing (page 1 says to loosen a filter instead)."""
    if kept <= 0 or kept >= train_size + test_size:
        return None
    train = min(kept, train_size)
    test = min(kept - train, test_size)
    fix_train, fix_test = ratio_split(kept, train_size, test_size)
    return SplitShortfall(kept, train_size, test_size, train, test, fix_train, fix_test)
