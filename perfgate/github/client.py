"""The sticky comment's I/O: the few REST calls it needs, through PyGithub.

:func:`sync_comment` is one idempotent attempt (read the PR's head, list every page of its issue
comments, then create/edit/delete as :func:`~perfgate.github.sticky.plan_sync` says); the caller
repeats it under a :class:`~perfgate.github.retry.RetryPolicy`. Because each attempt looks the
comment up again, repeating after a write that timed out but happened edits that comment instead
of adding a second one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from github import Auth, Github, GithubException

from perfgate import __version__
from perfgate.github.body import Stamp
from perfgate.github.retry import Kind, RetryPolicy, problem_from_exception
from perfgate.github.sticky import (
    GITHUB_ACTIONS_BOT,
    Author,
    CommentWhen,
    Existing,
    Outcome,
    Plan,
    find_ours,
    plan_sync,
)


def make_github(api_url: str, token: str, policy: RetryPolicy) -> Github:
    """A PyGithub client on ``api_url`` with its own retries off (ours are bounded, see retry)."""
    return Github(
        base_url=api_url,
        auth=Auth.Token(token),
        timeout=policy.timeout,
        user_agent=f"perfgate/{__version__}",
        per_page=100,
        retry=None,
        seconds_between_requests=None,
        seconds_between_writes=policy.write_interval or None,
    )


def pull_files(gh: Github, repository: str, number: int) -> list[tuple[str, str | None]]:
    """Every file the pull request changes, as ``(filename, patch)`` (all pages; a renamed
    file also under its previous name). GitHub's own answer, independent of any report."""
    out: list[tuple[str, str | None]] = []
    for f in gh.get_repo(repository).get_pull(number).get_files():
        out.append((f.filename, f.patch))
        if f.previous_filename:
            out.append((f.previous_filename, f.patch))
    return out


def resolve_author(gh: Github, *, in_actions: bool, override: str | None) -> Author:
    """Whose comments are ours: ``override``, else ``GET /user``'s login.

    Installation tokens (the Actions ``GITHUB_TOKEN``, GitHub App tokens) get 403 from
    ``GET /user``. In Actions that token is ``github-actions[bot]``'s; elsewhere the identity is
    unknown and matching falls back to the marker alone. Other failures (401, 5xx, timeouts) are
    raised for the retry loop.
    """
    if override:
        return Author(override, "PERFGATE_COMMENT_AUTHOR")
    try:
        return Author(gh.get_user().login, "GET /user")
    except GithubException as exc:
        problem = problem_from_exception(exc)
        if problem is None or problem.kind not in (Kind.FORBIDDEN, Kind.NOT_FOUND):
            raise
    if in_actions:
        return Author(GITHUB_ACTIONS_BOT, "the Actions GITHUB_TOKEN")
    return Author(None, "unknown (marker only)")


@dataclass
class SyncResult:
    """What one successful sync did. ``action``: created, updated, skipped."""

    action: str
    url: str | None = None
    reason: str = ""
    deleted: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class CommentSync:
    """Everything one sync needs; ``author`` is learned on the first attempt and kept."""

    gh: Github
    repository: str
    pr_number: int
    key: str
    stamp: Stamp
    body: str
    fallback_body: str
    in_actions: bool = False
    author_override: str | None = None
    require_current_head: bool = False
    when: CommentWhen = "always"
    outcome: Outcome = field(default_factory=Outcome)
    author: Author | None = None
    log: Callable[[str], None] = lambda _msg: None

    def __call__(self) -> SyncResult:
        """One attempt; raises PyGithub/requests exceptions for the retry loop to classify."""
        repo = self.gh.get_repo(self.repository)
        pull = repo.get_pull(self.pr_number)
        pr_head = pull.head.sha
        if self.author is None:
            self.author = resolve_author(
                self.gh, in_actions=self.in_actions, override=self.author_override
            )
        objects: dict[int, Any] = {}
        existing: list[Existing] = []
        for c in pull.get_issue_comments():
            objects[c.id] = c
            login = c.user.login if c.user is not None else None
            existing.append(Existing(c.id, c.body or "", login, c.html_url))
        found = find_ours(existing, self.key, self.author)
        plan = plan_sync(
            found,
            self.stamp,
            pr_head,
            require_current_head=self.require_current_head,
            when=self.when,
            outcome=self.outcome,
        )
        return self._execute(plan, pull, objects)

    def _execute(self, plan: Plan, pull: Any, objects: dict[int, Any]) -> SyncResult:
        if plan.action == "skip":
            return SyncResult("skipped", reason=plan.reason)
        result = SyncResult("created" if plan.action == "create" else "updated")
        result.url = self._write(plan, pull, objects, self.body, result)
        for dup in plan.delete:
            try:
                objects[dup.id].delete()
                result.deleted.append(dup.id)
            except GithubException as exc:  # the next run deletes it; not worth failing over
                result.notes.append(f"could not delete duplicate comment {dup.id}: {exc.status}")
        return result

    def _write(
        self, plan: Plan, pull: Any, objects: dict[int, Any], body: str, result: SyncResult
    ) -> str | None:
        try:
            if plan.edit is not None:
                obj = objects[plan.edit.id]
                obj.edit(body)
                return obj.html_url
            return pull.create_issue_comment(body).html_url
        except GithubException as exc:
            problem = problem_from_exception(exc)
            if problem is None or problem.kind != Kind.INVALID or body == self.fallback_body:
                raise
            result.notes.append(
                f"GitHub refused the full comment ({problem.describe()}): posted a short one; "
                "the full table is in the job summary"
            )
            self.log("the full comment was refused (HTTP 422): posting a short one")
            return self._write(plan, pull, objects, self.fallback_body, result)
