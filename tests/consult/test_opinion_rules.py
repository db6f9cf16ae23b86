"""The pure opinion analysis of a deliberation round (consult.rules.opinion and
consult.rules.clustering) against hand-worked examples: group-informed consensus by area,
planted opinion groups recovered, the silhouette by hand, divisive statements; with property
tests on random small rounds."""

from __future__ import annotations

import json
import math
import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consult.rules import clustering
from consult.rules.clustering import choose_clusters, mean_silhouettes
from consult.rules.opinion import MIN_COMMON_VOTES, analyse

CHOICE = {"a": "agree", "d": "disagree", "p": "pass"}


def votes_from(rows: list[str], statements: list[int], first_voter: int = 1):
    """One vote per letter: row i is voter first_voter + i, column j statement statements[j];
    a agree, d disagree, p pass, . no vote."""
    return [
        (first_voter + i, statements[j], CHOICE[c])
        for i, row in enumerate(rows)
        for j, c in enumerate(row)
        if c != "."
    ]


def tally_votes(voter: int, statement: int, agree: int, disagree: int):
    """`agree` agrees then `disagree` disagrees on `statement` by voters voter, voter + 1, ..."""
    choices = ["agree"] * agree + ["disagree"] * disagree
    return [(voter + i, statement, c) for i, c in enumerate(choices)]


def distinctive(result, group: int) -> set[tuple[int, str]]:
    return {(s["statement"], s["direction"]) for s in result["groups"][group - 1]["statements"]}


# --- common ground -----------------------------------------------------------------------


def test_common_ground_a_statement_loved_by_one_big_area_ranks_below_one_liked_everywhere():
    # Areas: 1 has ten voters (ids 100-109), 2 and 3 have four each (200-203, 300-303).
    areas = {**dict.fromkeys(range(100, 110), 1), **dict.fromkeys(range(200, 204), 2)}
    areas |= dict.fromkeys(range(300, 304), 3)
    A, B, C, D = 1, 2, 3, 4
    votes = [
        # A: loved by the big area, disliked by both small ones (10 of 18 agree overall)
        *tally_votes(100, A, agree=10, disagree=0),
        *tally_votes(200, A, agree=0, disagree=4),
        *tally_votes(300, A, agree=0, disagree=4),
        # B: liked moderately everywhere (12 of 18 agree overall)
        *tally_votes(100, B, agree=6, disagree=4),
        *tally_votes(200, B, agree=3, disagree=1),
        *tally_votes(300, B, agree=3, disagree=1),
        # C: everyone who voted agrees, but only the big area has voted
        *tally_votes(100, C, agree=10, disagree=0),
        # D: four votes, below MIN_COMMON_VOTES
        *tally_votes(100, D, agree=4, disagree=0),
    ]
    # By hand, the product over the three areas of (agree + 1) / (votes + 2):
    #   A: 11/12 * 1/6 * 1/6 = 11/432 ~ 0.0255
    #   B:  7/12 * 4/6 * 4/6 =  7/27  ~ 0.2593
    #   C: 11/12 * 1/2 * 1/2 = 11/48  ~ 0.2292  (an area with no vote counts as split: 1/2)
    #   D: not listed (4 < 5 votes)
    assert MIN_COMMON_VOTES == 5
    result = analyse(votes, areas, [A, B, C, D])
    ground = result["common_ground"]
    assert [g["statement"] for g in ground] == [B, C, A]
    assert [g["score"] for g in ground] == pytest.approx([7 / 27, 11 / 48, 11 / 432])
    b = ground[0]
    assert (b["agree"], b["disagree"], b["pass"], b["votes"]) == (12, 6, 0, 18)
    assert b["areas"] == [
        {"area": 1, "agree": 6, "votes": 10},
        {"area": 2, "agree": 3, "votes": 4},
        {"area": 3, "agree": 3, "votes": 4},
    ]
    assert ground[1]["areas"][1:] == [
        {"area": 2, "agree": 0, "votes": 0},
        {"area": 3, "agree": 0, "votes": 0},
    ]
    assert result["voters"] == 18


def test_common_ground_voters_without_an_area_are_one_more_area_and_passes_are_votes():
    areas = {1: 7, 2: 7, 3: 7, 4: None, 5: None}
    votes = votes_from(["a", "a", "p", "d", "a"], [9])
    # area 7: (2 + 1) / (3 + 2) = 3/5; no area: (1 + 1) / (2 + 2) = 1/2; product 3/10
    (only,) = analyse(votes, areas, [9])["common_ground"]
    assert only["score"] == pytest.approx(3 / 10)
    assert (only["agree"], only["disagree"], only["pass"]) == (3, 1, 1)
    assert [a["area"] for a in only["areas"]] == [7, None]


def test_votes_on_statements_not_approved_are_ignored_and_the_later_of_two_votes_counts():
    votes = votes_from(["a", "a", "a", "a", "a"], [1]) + [(1, 2, "agree"), (3, 1, "disagree")]
    result = analyse(votes, {}, [1])
    (only,) = result["common_ground"]
    assert (only["statement"], only["agree"], only["disagree"]) == (1, 4, 1)
    assert result["voters"] == 5  # voter 1 voted on 2 as well: still one voter


def test_an_unknown_choice_is_refused():
    with pytest.raises(ValueError, match="maybe"):
        analyse([(1, 1, "maybe")], {}, [1])


def test_empty_round():
    result = analyse([], {}, [])
    assert result == {
        "voters": 0,
        "clustered": 0,
        "common_ground": [],
        "groups": [],
        "k": 0,
        "silhouette": None,
        "silhouettes": [],
        "divisive": [],
    }
    assert analyse([], {}, [1, 2])["common_ground"] == []


# --- the silhouette by hand --------------------------------------------------------------


def test_silhouette_of_two_pairs_on_a_line():
    points = np.array([[0.0, 0], [1, 0], [4, 0], [5, 0]])
    # 0: a = 1, b = (4 + 5) / 2 = 4.5, s = 1 - 1/4.5 = 7/9; 1: a = 1, b = (3 + 4) / 2, s = 5/7
    # and symmetrically 4: 5/7, 5: 7/9; mean (7/9 + 5/7) / 2 = 47/63
    (score,) = mean_silhouettes(points, [np.array([0, 0, 1, 1])])
    assert score == pytest.approx(47 / 63)


def test_silhouette_a_point_alone_scores_zero_and_a_bad_labeling_is_negative():
    points = np.array([[0.0, 0], [1, 0], [10, 0]])
    # 0: a = 1, b = 10, s = 0.9; 1: a = 1, b = 9, s = 8/9; 10 is alone: 0
    alone, bad = mean_silhouettes(points, [np.array([0, 0, 1]), np.array([0, 1, 0])])
    assert alone == pytest.approx((0.9 + 8 / 9 + 0) / 3)
    # {0, 10} and {1}: 0: a = 10, b = 1, s = (1 - 10) / 10 = -0.9; 10: a = 10, b = 9,
    # s = -0.1; 1 alone: 0
    assert bad == pytest.approx((-0.9 - 0.1 + 0) / 3)


def test_silhouette_in_two_dimensions():
    points = np.array([[0.0, 0], [0, 1], [3, 0], [3, 1]])
    # every point: a = 1 (its partner), b = (3 + sqrt(10)) / 2; s = 1 - 2 / (3 + sqrt(10))
    (score,) = mean_silhouettes(points, [np.array([0, 0, 1, 1])])
    assert score == pytest.approx(1 - 2 / (3 + math.sqrt(10)))


def test_silhouette_computed_by_blocks_equals_the_plain_definition(monkeypatch):
    rng = np.random.default_rng(3)
    points = rng.normal(size=(23, 2))
    labels = rng.integers(0, 3, size=23)
    d = np.sqrt(((points[:, None] - points[None]) ** 2).sum(axis=2))
    plain = []
    for i in range(23):
        own = labels == labels[i]
        if own.sum() == 1:
            plain.append(0.0)
            continue
        a = d[i, own].sum() / (own.sum() - 1)
        b = min(d[i, labels == c].mean() for c in set(labels.tolist()) - {labels[i]})
        plain.append((b - a) / max(a, b))
    monkeypatch.setattr(clustering, "BLOCK", 5)
    assert mean_silhouettes(points, [labels]) == pytest.approx([np.mean(plain)])


@pytest.mark.parametrize("shape", [(40, 6), (6, 40), (5, 1), (1, 5)])
def test_the_projection_is_the_svd_one(shape):
    x = np.random.default_rng(8).normal(size=shape)
    x -= x.mean(axis=0)
    u, s, _ = np.linalg.svd(x, full_matrices=False)
    expected = np.zeros((shape[0], 2))
    expected[:, : len(s[:2])] = (u * s)[:, :2]
    got = clustering.project(x)
    for d in range(2):  # equal up to the sign of each component
        sign = 1 if got[:, d] @ expected[:, d] >= 0 else -1
        assert got[:, d] == pytest.approx(sign * expected[:, d], abs=1e-9)


def test_one_round_blob_is_not_clustered():
    points = np.random.default_rng(5).normal(size=(300, 2))
    outcome = choose_clusters(points, np.random.default_rng(0), min_size=5)
    assert outcome.labels is None
    assert set(outcome.scores) == {2, 3, 4, 5}
    assert outcome.silhouette == max(outcome.scores.values()) < clustering.MIN_SILHOUETTE


# --- opinion groups ----------------------------------------------------------------------

STATEMENTS = list(range(101, 111))
# Statements 101-103: the first group agrees, the second disagrees; 104-105: the reverse;
# 106-110: everyone agrees. One member of the first group passes on 101, one of the second
# has not voted on 104.
FIRST = ["aaaddaaaaa"] * 12
SECOND = ["dddaaaaaaa"] * 8
FIRST[0] = "paaddaaaaa"
SECOND[1] = "ddd.aaaaaa"


def planted_two() -> list[tuple[int, int, str]]:
    # the second group first, with the smaller ids: the numbering must come from the sizes
    return votes_from(SECOND, STATEMENTS, first_voter=1) + votes_from(
        FIRST, STATEMENTS, first_voter=501
    )


def test_two_planted_groups_are_recovered_with_what_sets_them_apart():
    result = analyse(planted_two(), {}, STATEMENTS)
    assert (result["k"], result["voters"], result["clustered"]) == (2, 20, 20)
    assert [g["group"] for g in result["groups"]] == [1, 2]
    assert [g["size"] for g in result["groups"]] == [12, 8]  # largest first
    assert result["silhouette"] > clustering.MIN_SILHOUETTE
    assert distinctive(result, 1) == {
        (101, "agree"),
        (102, "agree"),
        (103, "agree"),
        (104, "disagree"),
        (105, "disagree"),
    }
    assert distinctive(result, 2) == {
        (101, "disagree"),
        (102, "disagree"),
        (103, "disagree"),
        (104, "agree"),
        (105, "agree"),
    }
    # 101 in the first group: 11 agree and 1 pass of 12; the second group: 8 disagree of 8
    (s101,) = [s for s in result["groups"][0]["statements"] if s["statement"] == 101]
    assert s101["agree"] == pytest.approx(11 / 12)
    assert (s101["others_agree"], s101["disagree"], s101["others_disagree"]) == (0, 0, 1)
    assert (s101["votes"], s101["others_votes"]) == (12, 8)
    # the one with the smallest lead comes last: 101 (11/12 agree against 0 of 8)
    assert result["groups"][0]["statements"][-1]["statement"] == 101


def test_divisive_statements_of_the_planted_groups():
    divisive = analyse(planted_two(), {}, STATEMENTS)["divisive"]
    by_statement = {d["statement"]: d for d in divisive}
    assert set(by_statement) == {101, 102, 103, 104, 105}
    assert by_statement[102] == {
        "statement": 102,
        "agree_group": 1,
        "agree_rate": 1.0,
        "disagree_group": 2,
        "disagree_rate": 1.0,
        "gap": 1.0,
    }
    assert (by_statement[104]["agree_group"], by_statement[104]["disagree_group"]) == (2, 1)
    # gaps: 102, 103, 104, 105 are 1; 101 is 11/12 - 0: last
    assert [d["statement"] for d in divisive] == [102, 103, 104, 105, 101]
    assert divisive[-1]["gap"] == pytest.approx(11 / 12)


def test_the_same_votes_give_the_same_result_whatever_the_order_and_the_voter_ids():
    votes = planted_two()
    result = analyse(votes, {}, STATEMENTS)
    assert analyse(votes, {}, STATEMENTS) == result
    shuffled = votes[:]
    random.Random(1).shuffle(shuffled)
    assert analyse(shuffled, {}, STATEMENTS) == result
    voters = sorted({v for v, _, _ in votes})
    renamed = dict(
        zip(voters, random.Random(2).sample(range(10_000, 20_000), len(voters)), strict=True)
    )
    assert analyse([(renamed[v], s, c) for v, s, c in votes], {}, STATEMENTS) == result


def test_a_seeded_noisy_round_finds_the_planted_groups_and_only_planted_statements():
    rng = np.random.default_rng(11)
    sizes = (70, 45)
    planted = list(range(1, 9))  # 1-4: the first group agrees, the second not; 5-8 reverse
    statements = list(range(1, 17))  # 9-16: everyone votes at random
    votes = []
    voter = 0
    for group, size in enumerate(sizes):
        for _ in range(size):
            voter += 1
            for s in statements:
                if s <= 8:
                    agree = (s <= 4) == (group == 0)
                    choice = ("agree" if agree else "disagree") if rng.random() < 0.95 else "pass"
                else:
                    choice = str(rng.choice(["agree", "disagree", "pass"]))
                votes.append((voter, s, choice))
    result = analyse(votes, {}, statements)
    assert [g["size"] for g in result["groups"]] == list(sizes)
    for group in result["groups"]:
        assert len(group["statements"]) == 5
        assert {s["statement"] for s in group["statements"]} <= set(planted)
    assert {d["statement"] for d in result["divisive"]} == set(planted)


def test_three_planted_groups_give_k_3():
    statements = list(range(1, 10))
    rows = (
        ["aaadddddd"] * 9
        + ["paadddddd"]
        + ["dddaaaddd"] * 7
        + ["ddd.aaddd"]
        + ["ddddddaaa"] * 5
        + ["dddddpaaa"]
    )
    result = analyse(votes_from(rows, statements), {}, statements)
    assert result["k"] == 3
    assert [g["size"] for g in result["groups"]] == [10, 8, 6]
    assert [s["k"] for s in result["silhouettes"]] == [2, 3]  # 4 groups of 5: impossible
    best = max(result["silhouettes"], key=lambda s: s["score"])
    assert best == {"k": 3, "score": result["silhouette"]}
    assert {s for s, d in distinctive(result, 3) if d == "agree"} == {7, 8, 9}


def test_no_groups_in_uniformly_random_votes():
    rng = np.random.default_rng(4)
    choices = rng.choice(["agree", "disagree", "pass"], size=(200, 30))
    votes = [(v, s, str(choices[v, s])) for v in range(200) for s in range(30)]
    result = analyse(votes, {}, list(range(30)))
    assert result["clustered"] == 200
    assert (result["groups"], result["k"], result["silhouette"], result["divisive"]) == (
        [],
        0,
        None,
        [],
    )
    assert len(result["silhouettes"]) == 4
    assert all(s["score"] < clustering.MIN_SILHOUETTE for s in result["silhouettes"])
    assert len(result["common_ground"]) == 30  # common ground does not need groups


def test_no_groups_with_fewer_than_ten_voters_or_a_group_under_five():
    nine = ["aaaaadddd"] * 5 + ["ddddaaaaa"] * 4
    result = analyse(votes_from(nine, list(range(9))), {}, list(range(9)))
    assert (result["clustered"], result["groups"], result["silhouettes"]) == (9, [], [])
    twelve = ["aaaaadddd"] * 8 + ["ddddaaaaa"] * 4  # a group of 4 could point at someone
    result = analyse(votes_from(twelve, list(range(9))), {}, list(range(9)))
    assert (result["clustered"], result["groups"], result["silhouettes"]) == (12, [], [])


def test_voters_with_too_few_votes_are_not_clustered():
    statements = list(range(1, 11))
    rows = ["aaaaaddddd"] * 6 + ["dddddaaaaa"] * 6 + ["aaaaaad..."] * 3 + ["dddddd...."] * 4
    result = analyse(votes_from(rows, statements), {}, statements)
    assert (result["voters"], result["clustered"]) == (19, 15)  # 7 votes needed: 6 is short
    assert [g["size"] for g in result["groups"]] == [9, 6]
    # everyone's votes still count for the common ground
    assert {g["statement"]: g["votes"] for g in result["common_ground"]}[1] == 19
    # with fewer than 7 statements, voting on all of them is enough
    rows = ["aaadd"] * 6 + ["ddaaa"] * 6 + ["aaad."] * 3
    result = analyse(votes_from(rows, list(range(5))), {}, list(range(5)))
    assert result["clustered"] == 12


def test_groups_that_differ_without_disagreeing_have_no_divisive_statement():
    # the first group agrees with 1-4 where the second passes; both agree with 5-8
    statements = list(range(1, 9))
    rows = ["aaaaaaaa"] * 7 + ["aapaaaaa"] + ["ppppaaaa"] * 6
    result = analyse(votes_from(rows, statements), {}, statements)
    assert [g["size"] for g in result["groups"]] == [8, 6]
    assert result["divisive"] == []
    assert distinctive(result, 1) == {(1, "agree"), (2, "agree"), (3, "agree"), (4, "agree")}
    assert distinctive(result, 2) == set()  # passing is not disagreeing


def all_ints(value) -> set[int]:
    if isinstance(value, bool):
        return set()
    if isinstance(value, int):
        return {value}
    if isinstance(value, dict):
        return set().union(*map(all_ints, value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*map(all_ints, value)) if value else set()
    return set()


def test_the_result_is_json_and_names_no_voter():
    votes = [(900_000 + v, s, c) for v, s, c in planted_two()]  # ids unlike any count
    areas = {v: 1 + v % 3 for v, _, _ in votes}
    result = analyse(votes, areas, STATEMENTS)
    assert result["groups"] and result["divisive"] and result["common_ground"]
    loaded = json.loads(json.dumps(result, allow_nan=False))
    assert loaded == result
    voters = {v for v, _, _ in votes}
    assert not all_ints(loaded) & voters
    assert "voter" not in json.dumps(result).replace('"voters"', "")


# --- properties on random small rounds ---------------------------------------------------

CHOICES = ["agree", "disagree", "pass"]
FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def rounds(draw: st.DrawFn):
    """(votes, areas, statements): sparse random votes, dense random rows, or rows copied from
    two or three profiles with a few changes (so that groups form); statements approved or
    not, some never voted on; voters with or without an area."""
    shape = draw(st.sampled_from(["sparse", "dense", "profiles"]))
    cell = st.sampled_from([*CHOICES, None])
    if shape == "sparse":
        votes = draw(
            st.lists(
                st.tuples(st.integers(1, 30), st.integers(1, 8), st.sampled_from(CHOICES)),
                max_size=150,
                unique_by=lambda v: (v[0], v[1]),
            )
        )
    else:
        if shape == "dense":
            rows = draw(st.lists(st.lists(cell, min_size=7, max_size=7), max_size=30))
        else:
            # voters copying one of up to three random profiles (voting on every statement),
            # each cell changed at random (to another choice or no vote) with some probability
            rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
            cells = np.array([*CHOICES, None], dtype=object)
            profiles = rng.choice(cells[:3], size=(3, 7))
            sizes = draw(st.lists(st.integers(3, 15), min_size=1, max_size=3))
            noise = draw(st.sampled_from([0.0, 0.1, 0.3]))
            rows = []
            for profile, size in zip(profiles, sizes, strict=False):
                for _ in range(size):
                    changed = rng.random(7) < noise
                    rows.append(np.where(changed, rng.choice(cells, size=7), profile).tolist())
        votes = [(i + 1, j + 1, c) for i, row in enumerate(rows) for j, c in enumerate(row) if c]
    voters = sorted({v for v, _, _ in votes})
    areas = {v: draw(st.sampled_from([None, 1, 2, 3])) for v in voters if draw(st.booleans())}
    if shape == "profiles":
        statements = list(range(1, 8)) + draw(st.lists(st.integers(8, 9), unique=True))
    else:
        statements = draw(st.lists(st.integers(1, 9), max_size=9, unique=True))
    return votes, areas, statements


@FAST
@given(rounds())
def test_analyse_never_fails_and_its_result_holds_together(round_):
    votes, areas, statements = round_
    result = analyse(votes, areas, statements)
    json.dumps(result, allow_nan=False)
    approved = set(statements)
    assert result["voters"] == len({v for v, s, _ in votes if s in approved})
    for item in result["common_ground"]:
        assert 0 < item["score"] <= 1
        assert item["statement"] in approved and item["votes"] >= MIN_COMMON_VOTES
        assert sum(a["votes"] for a in item["areas"]) == item["votes"]
    scores = [item["score"] for item in result["common_ground"]]
    assert scores == sorted(scores, reverse=True)
    sizes = [g["size"] for g in result["groups"]]
    assert result["k"] == len(sizes) and sizes == sorted(sizes, reverse=True)
    assert not sizes or (2 <= len(sizes) <= 5 and sum(sizes) == result["clustered"])
    assert all(size >= 5 for size in sizes)
    assert (result["silhouette"] is None) == (not sizes)
    for d in result["divisive"]:
        assert d["agree_rate"] >= 0.6 and d["disagree_rate"] >= 0.6
        assert d["agree_group"] != d["disagree_group"]
        assert {d["agree_group"], d["disagree_group"]} <= set(range(1, len(sizes) + 1))


@FAST
@given(rounds(), st.permutations([None, 1, 2, 3]), st.randoms(use_true_random=False))
def test_the_ranking_does_not_depend_on_the_names_of_the_areas(round_, names, rnd):
    votes, areas, statements = round_
    rename = dict(zip([None, 1, 2, 3], names, strict=True))
    renamed = {v: rename[a] for v, a in areas.items()}
    # voters missing from `areas` have no area: give them the new name of None
    renamed |= {v: rename[None] for v, _, _ in votes if v not in areas}

    def ranking(result):
        return [(g["statement"], g["score"]) for g in result["common_ground"]]

    assert ranking(analyse(votes, renamed, statements)) == ranking(
        analyse(votes, areas, statements)
    )


@FAST
@given(rounds(), st.randoms(use_true_random=False))
def test_the_result_does_not_depend_on_voter_ids_or_the_order_of_votes(round_, rnd):
    votes, areas, statements = round_
    voters = sorted({v for v, _, _ in votes})
    new_ids = dict(zip(voters, rnd.sample(range(1000, 2000), len(voters)), strict=True))
    moved = [(new_ids[v], s, c) for v, s, c in votes]
    rnd.shuffle(moved)
    moved_areas = {new_ids[v]: a for v, a in areas.items()}
    assert analyse(moved, moved_areas, statements) == analyse(votes, areas, statements)
