"""Which comments are ours and what to do with them (pure decisions)."""

from __future__ import annotations

from perfgate.github.body import Stamp, format_stamp, marker
from perfgate.github.sticky import Author, Existing, find_ours, is_newer, plan_sync

A, B, C = "a" * 40, "b" * 40, "c" * 40
BOT = Author("github-actions[bot]", "test")


def comment(cid: int, stamp: Stamp | None = None, author: str = "github-actions[bot]", key="k"):
    body = f"{marker(key)}\n{format_stamp(stamp) if stamp else ''}\ntable"
    return Existing(cid, body, author)


def test_find_ours_by_marker_and_author():
    cs = [
        comment(3),
        comment(1),
        comment(2, author="alice"),
        comment(4, key="other"),
        Existing(5, "plain", "github-actions[bot]"),
    ]
    assert [c.id for c in find_ours(cs, "k", BOT)] == [1, 3]
    assert [c.id for c in find_ours(cs, "k", Author("GitHub-Actions[bot]", "t"))] == [1, 3]
    assert [c.id for c in find_ours(cs, "k", Author(None, "marker only"))] == [1, 2, 3]


def test_is_newer_prefers_the_prs_current_head():
    mine = Stamp(sha=A, run_id=10)
    assert is_newer(Stamp(sha=B, run_id=5), mine, pr_head=B)  # theirs is the current head
    assert not is_newer(Stamp(sha=B, run_id=50), mine, pr_head=A)  # ours is the current head
    # Neither is the current head (or it is unknown): the later run wins.
    assert is_newer(Stamp(sha=B, run_id=11), mine, pr_head=C)
    assert not is_newer(Stamp(sha=B, run_id=9), mine, pr_head=None)
    # No run ids: time stamps.
    assert is_newer(Stamp(sha=B, time="2026-01-02"), Stamp(sha=A, time="2026-01-01"), None)
    assert not is_newer(Stamp(sha=B), Stamp(sha=A), None)


def test_is_newer_same_commit_only_for_a_later_run_or_attempt():
    assert not is_newer(Stamp(sha=A, run_id=10, run_attempt=1), Stamp(sha=A, run_id=10), A)
    assert is_newer(
        Stamp(sha=A, run_id=10, run_attempt=2), Stamp(sha=A, run_id=10, run_attempt=1), A
    )
    assert is_newer(Stamp(sha=A, run_id=11), Stamp(sha=A, run_id=10), A)
    assert not is_newer(Stamp(sha=A), Stamp(sha=A, run_id=10), A)
    assert not is_newer(None, Stamp(sha=A), A)


def test_plan_create_edit_and_delete_duplicates():
    mine = Stamp(sha=A, run_id=10)
    assert plan_sync([], mine, A).action == "create"
    found = [comment(1, Stamp(sha=A, run_id=9)), comment(2, Stamp(sha=A, run_id=9))]
    plan = plan_sync(found, mine, A)
    assert plan.action == "edit" and plan.edit.id == 2 and [d.id for d in plan.delete] == [1]


def test_plan_skips_when_a_newer_result_is_there():
    found = [comment(1, Stamp(sha=B, run_id=20))]
    plan = plan_sync(found, Stamp(sha=A, run_id=10), pr_head=B)
    assert plan.action == "skip" and "newer result" in plan.reason and B[:12] in plan.reason


def test_plan_requiring_the_current_head():
    plan = plan_sync([], Stamp(sha=A), pr_head=B, require_current_head=True)
    assert plan.action == "skip" and "PR's head is now" in plan.reason
    assert plan_sync([], Stamp(sha=A), pr_head=A, require_current_head=True).action == "create"
