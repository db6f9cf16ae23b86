"""Discussion's pure rules: what is left of a text, and threads put together from a page of
top-level comments and their replies."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from consult.rules.comments import assemble_threads, clean_body, clean_line


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  hello  ", "hello"),
        ("a\r\nb\rc", "a\nb\nc"),
        ("one\n\n\n\n\ntwo", "one\n\ntwo"),
        ("tab\there", "tab here"),
        ("nul\x00bell\x07esc\x1b[0m", "nulbellesc[0m"),
        ("c1\x85\x9bcontrols", "c1controls"),
        ("bidi \u202egnp.exe\u202c ok \u2066x\u2069", "bidi gnp.exe ok x"),
        ("trailing   \nspaces\t\n", "trailing\nspaces"),
        ("中文，标点。\n第二行", "中文，标点。\n第二行"),
        ("<a href='x'>link</a> https://example.com", "<a href='x'>link</a> https://example.com"),
        (None, ""),
    ],
)
def test_clean_body(raw, clean):
    assert clean_body(raw) == clean


def test_clean_line_makes_one_line():
    assert clean_line(" personal\r\n attack\t\x00 ") == "personal attack"
    assert clean_line("") == ""


def _c(id, depth=0, parent=None, root=None, reply_count=0):
    return SimpleNamespace(
        id=id, depth=depth, parent_id=parent, root_id=root, reply_count=reply_count
    )


def test_threads_nest_replies_under_their_parents_in_order():
    a, b = _c(1, reply_count=4), _c(2)
    replies = [
        _c(7, 2, parent=3, root=1),
        _c(3, 1, parent=1, root=1),
        _c(5, 1, parent=1, root=1),
        _c(6, 2, parent=3, root=1),
        _c(99, 1, parent=50, root=50),  # another page's thread: ignored
    ]
    t1, t2 = assemble_threads([a, b], replies)
    assert t1.root is a and t2.root is b
    assert [r.comment.id for r in t1.replies] == [3, 5]
    assert [c.id for c in t1.replies[0].replies] == [6, 7]
    assert t1.replies[1].replies == [] and t2.replies == []
    assert (t1.more, t2.more) == (0, 0)


def test_the_replies_not_given_are_counted_and_an_orphan_is_shown_flat():
    root = _c(1, reply_count=10)
    replies = [_c(3, 1, parent=1, root=1), _c(4, 2, parent=2, root=1)]  # 2 is not given
    (thread,) = assemble_threads([root], replies)
    assert [r.comment.id for r in thread.replies] == [3, 4]
    assert thread.more == 8
