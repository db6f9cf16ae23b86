"""Discussion's pure rules: what a comment's text may hold, and how a page of threads is put
together from its top-level comments and their replies. No I/O.

Text: control characters are removed (a NUL, an escape sequence or a bidirectional override
pasted from elsewhere would garble the page or the audit log), except line breaks, which are
kept (the page shows them); a tab becomes a space; Windows and old Mac line ends become "\n";
more than two blank lines in a row become one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

MAX_BODY = 2000  # characters of a comment, after cleaning
MAX_REASON = 200  # a report's or the council's reason (Comment.hidden_reason)

# Bidirectional embeddings, overrides and isolates: they reorder what follows them on the
# page (a "Trojan source" trick); no comment needs them.
_BIDI = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
_BLANK_LINES = re.compile(r"\n{3,}")


def _without_controls(value: str, keep_newlines: bool) -> str:
    value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    value = value.translate(_BIDI)
    return "".join(
        ch for ch in value if (ch == "\n" and keep_newlines) or unicodedata.category(ch) != "Cc"
    )


def clean_body(value: object) -> str:
    """A comment's text as stored: controls removed but line breaks, no more than one blank
    line in a row, no spaces or blank lines around it."""
    text = _without_controls(str(value or ""), keep_newlines=True)
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", text).strip()


def clean_line(value: object) -> str:
    """A one-line text (a reason): controls removed, line breaks become spaces."""
    text = str(value or "").replace("\r\n", " ").replace("\r", " ").replace("\n", " ")
    return " ".join(_without_controls(text, keep_newlines=False).split())


@dataclass
class Reply:
    """A reply (depth 1) with its own replies (depth 2) in the order they were posted."""

    comment: Any
    replies: list[Any] = field(default_factory=list)


@dataclass
class Thread:
    """A top-level comment and the replies shown under it; `more` replies of the thread are
    not shown (they are on the thread's own page)."""

    root: Any
    replies: list[Reply] = field(default_factory=list)
    more: int = 0


def assemble_threads(roots: Sequence[Any], replies: Iterable[Any]) -> list[Thread]:
    """Threads in the order of `roots`, each with its replies nested under their parents.

    `replies` are comments with `id`, `root_id`, `parent_id`, `depth`; each thread's replies
    must be a prefix of that thread's replies in id order (the first n): a reply's parent is
    older than it, so every depth-2 reply shown has its parent shown too. A reply whose parent
    is missing all the same (a partial list) is shown directly under the top-level comment.
    `more` counts the thread's replies not given, from the root's `reply_count` (every reply
    in its thread).
    """
    threads = {root.id: Thread(root=root) for root in roots}
    by_id: dict[int, Reply] = {}
    for comment in sorted(replies, key=lambda c: c.id):
        thread = threads.get(comment.root_id)
        if thread is None:
            continue
        parent = by_id.get(comment.parent_id) if comment.depth == 2 else None
        if parent is not None:
            parent.replies.append(comment)
        else:
            reply = Reply(comment)
            by_id[comment.id] = reply
            thread.replies.append(reply)
    for thread in threads.values():
        shown = sum(1 + len(r.replies) for r in thread.replies)
        thread.more = max(0, thread.root.reply_count - shown)
    return [threads[root.id] for root in roots]
