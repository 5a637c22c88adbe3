"""Deciding what to do with the sticky comment: which existing comments are ours, and whether
to edit, create, or leave a newer result alone (pure).

The I/O half (listing, editing, deleting through PyGithub) is in :mod:`perfgate.github.client`;
this module only looks at plain data, so every rule here is tested without a server.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from perfgate.github.body import Stamp, has_marker, parse_stamp

GITHUB_ACTIONS_BOT = "github-actions[bot]"

CommentWhen = Literal["always", "changes", "regressions", "never"]
COMMENT_WHEN: tuple[CommentWhen, ...] = ("always", "changes", "regressions", "never")


@dataclass(frozen=True)
class Existing:
    """An issue comment already on the PR, as far as the decision needs it."""

    id: int
    body: str
    author: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Author:
    """Whose comments count as perfgate's: ``login``, or anyone's (``None``: marker only).

    ``source`` says how the login was learned, for messages.
    """

    login: str | None
    source: str

    def matches(self, login: str | None) -> bool:
        if self.login is None:
            return True
        return login is not None and login.lower() == self.login.lower()


def find_ours(comments: Iterable[Existing], key: str, author: Author) -> list[Existing]:
    """The comments with this key's marker written by ``author``, oldest first."""
    return sorted(
        (c for c in comments if has_marker(c.body, key) and author.matches(c.author)),
        key=lambda c: c.id,
    )


def is_newer(theirs: Stamp | None, mine: Stamp, pr_head: str | None) -> bool:
    """True if the comment stamped ``theirs`` shows a newer result than ours.

    For different head commits the PR's current head (``pr_head``) decides: the result for the
    current head is the newer one. When neither is the current head (or it is unknown), the later
    workflow run is newer (run ids grow with time), else the later time stamp. For the same
    commit, only a later run (or a later attempt of the same run) is newer: re-running a job
    replaces its own result.
    """
    if theirs is None:
        return False
    if theirs.sha and mine.sha and theirs.sha.lower() != mine.sha.lower():
        if pr_head:
            if mine.sha.lower() == pr_head.lower():
                return False
            if theirs.sha.lower() == pr_head.lower():
                return True
        if theirs.run_id is not None and mine.run_id is not None:
            return (theirs.run_id, theirs.run_attempt or 1) > (mine.run_id, mine.run_attempt or 1)
        if theirs.time and mine.time:
            return theirs.time > mine.time
        return False
    if theirs.run_id is not None and mine.run_id is not None:
        return (theirs.run_id, theirs.run_attempt or 1) > (mine.run_id, mine.run_attempt or 1)
    return False


@dataclass(frozen=True)
class Plan:
    """``create`` a comment, ``edit`` the newest of ours (deleting the other duplicates), or
    ``skip`` because a newer result is already there."""

    action: Literal["create", "edit", "skip"]
    edit: Existing | None = None
    delete: tuple[Existing, ...] = ()
    reason: str = ""


@dataclass(frozen=True)
class Outcome:
    """What the report being posted says, as far as ``--comment-when`` asks: whether something
    fails the gate, and whether every handler passed (nothing regressed, improved, new, missing,
    insufficient or inconclusive)."""

    failing: bool = False
    all_pass: bool = False


def when_skip(
    when: CommentWhen, outcome: Outcome, mine: Stamp, posted: Existing | None
) -> str | None:
    """Why ``when`` leaves the comment unwritten, or None to write (create or update) it.

    ``always``: every run. ``changes``: when something is not a pass, or the verdicts differ
    from those of the comment already posted (``posted``, compared by the stamp's digest); a PR
    whose handlers all pass gets no comment. ``regressions``: when something fails, or, once a
    comment is there, when its verdicts changed, so a fixed PR does not keep a stale failing
    comment. ``never``: never (publish does not even look).
    """
    if when == "always":
        return None
    if when == "never":
        return "comment: never"
    theirs = parse_stamp(posted.body) if posted is not None else None
    changed = posted is not None and (theirs is None or theirs.verdicts != mine.verdicts)
    if changed:
        return None
    if when == "changes" and not outcome.all_pass:
        return None
    if when == "regressions" and outcome.failing:
        return None
    if posted is not None:
        return f"its verdicts are unchanged (comment: {when})"
    why = "every handler passes" if when == "changes" else "nothing regressed"
    return f"no comment needed, {why} (comment: {when})"


def plan_sync(
    found: list[Existing],
    mine: Stamp,
    pr_head: str | None,
    *,
    require_current_head: bool = False,
    when: CommentWhen = "always",
    outcome: Outcome = Outcome(),
) -> Plan:
    """Decide what to do given our existing comments (oldest first) and our stamp.

    ``require_current_head`` (used by ``perfgate comment`` in a ``workflow_run``) skips unless
    the report is for the PR's current head, so a report cannot land on a PR it was not made for.
    ``when`` and ``outcome``: whether this result is worth a comment at all (:func:`when_skip`).
    """
    if require_current_head and pr_head and mine.sha and mine.sha.lower() != pr_head.lower():
        return Plan(
            "skip",
            reason=f"the report is for {mine.sha[:12]} but the PR's head is now {pr_head[:12]}",
        )
    for c in found:
        theirs = parse_stamp(c.body)
        if is_newer(theirs, mine, pr_head):
            what = f"commit {theirs.sha[:12]}" if theirs and theirs.sha else "a later run"
            return Plan(
                "skip",
                reason=f"comment {c.id} already shows a newer result ({what}); "
                f"this run is for {mine.sha[:12] if mine.sha else 'an unknown commit'}",
            )
    skip = when_skip(when, outcome, mine, found[-1] if found else None)
    if skip is not None:
        return Plan("skip", reason=skip)
    if not found:
        return Plan("create")
    newest = found[-1]
    return Plan("edit", edit=newest, delete=tuple(found[:-1]))
