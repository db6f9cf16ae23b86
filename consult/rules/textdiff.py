"""A word-level diff of two texts, for showing what a revised clause changed (<ins>/<del>).

Chinese is written without spaces: each Han character (and each CJK punctuation mark) is a
token of its own; other text is split into words, runs of spaces and single marks. The diff is
difflib's on those tokens, with neighbouring pieces of the same kind merged. Pure: no I/O.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Literal

# One CJK character or mark; a word of letters and digits; a run of spaces; any other mark.
_TOKEN = re.compile(
    r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]"
    r"|[^\W\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]+"
    r"|\s+"
    r"|.",
    re.DOTALL,
)

Kind = Literal["equal", "insert", "delete"]


def tokenize(text: str) -> list[str]:
    """The tokens of `text`; joined again they give `text` back exactly."""
    return _TOKEN.findall(text)


@dataclass(frozen=True)
class Piece:
    kind: Kind
    text: str


def word_diff(old: str, new: str) -> list[Piece]:
    """How `new` differs from `old`: equal, deleted and inserted pieces in reading order (a
    replacement is its deletion then its insertion). Joining the equal and deleted pieces gives
    `old`; the equal and inserted ones give `new`."""
    a, b = tokenize(old), tokenize(new)
    pieces: list[Piece] = []

    def add(kind: Kind, tokens: list[str]) -> None:
        text = "".join(tokens)
        if not text:
            return
        if pieces and pieces[-1].kind == kind:
            pieces[-1] = Piece(kind, pieces[-1].text + text)
        else:
            pieces.append(Piece(kind, text))

    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            add("equal", a[i1:i2])
        else:
            add("delete", a[i1:i2])
            add("insert", b[j1:j2])
    return pieces


def changed(pieces: list[Piece]) -> bool:
    return any(p.kind != "equal" for p in pieces)
