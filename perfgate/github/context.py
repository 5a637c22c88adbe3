"""Where perfgate is running, read from the GitHub Actions environment and event payload.

GitHub Actions describes a run through environment variables (``GITHUB_*``) and a JSON file with
the webhook payload of the event that started the workflow (``GITHUB_EVENT_PATH``). This module
turns both into one immutable :class:`ActionsContext`. :func:`context_from` is pure (environment
mapping plus the already-parsed event); :func:`load_context` adds the one file read.

Nothing here raises: a missing or broken event file becomes a warning on the context, because
the gate's verdict must never depend on how well GitHub's metadata could be read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_SERVER_URL = "https://github.com"
PR_EVENTS = frozenset({"pull_request", "pull_request_target"})


@dataclass(frozen=True)
class ActionsContext:
    """The facts about the current run that publishing needs; every field may be unknown.

    ``head_sha`` is the pull request's head commit (not ``GITHUB_SHA``, which on a
    ``pull_request`` event is the test merge commit). ``run_id``/``run_attempt``/``run_url`` name
    the workflow run that produced the report: for a ``workflow_run`` event that is the
    triggering run, not the privileged run that only posts the comment.
    """

    in_actions: bool = False
    event_name: str | None = None
    repository: str | None = None
    api_url: str = DEFAULT_API_URL
    server_url: str = DEFAULT_SERVER_URL
    token: str | None = None
    run_id: int | None = None
    run_attempt: int | None = None
    run_url: str | None = None
    sha: str | None = None
    step_summary: str | None = None
    output: str | None = None
    pr_number: int | None = None
    head_sha: str | None = None
    head_repo: str | None = None
    base_repo: str | None = None
    base_sha: str | None = None  # a pull request's base commit (the event's)
    base_ref: str | None = None  # its base branch (the event's, else GITHUB_BASE_REF)
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_pr_event(self) -> bool:
        """True for ``pull_request`` and ``pull_request_target`` events."""
        return self.event_name in PR_EVENTS

    @property
    def is_fork(self) -> bool:
        """True when the PR's head lives in another repository than its base (a fork PR)."""
        if not self.head_repo or not self.base_repo:
            return False
        return self.head_repo.lower() != self.base_repo.lower()

    def commit_url(self, sha: str | None) -> str | None:
        """The web address of a commit in this repository, when both are known."""
        if not sha or not self.repository:
            return None
        return f"{self.server_url}/{self.repository}/commit/{sha}"


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _get(data: Any, *keys: str) -> Any:
    """``data[k1][k2]...`` or None when any level is missing or not an object."""
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def context_from(env: Mapping[str, str], event: Mapping[str, Any] | None) -> ActionsContext:
    """Build the context from environment variables and the parsed event payload (pure)."""
    event = dict(event or {})
    server_url = (env.get("GITHUB_SERVER_URL") or DEFAULT_SERVER_URL).rstrip("/")
    repository = _str(env.get("GITHUB_REPOSITORY"))
    event_name = _str(env.get("GITHUB_EVENT_NAME"))
    run_id = _int(env.get("GITHUB_RUN_ID"))
    run_attempt = _int(env.get("GITHUB_RUN_ATTEMPT"))
    run_url = f"{server_url}/{repository}/actions/runs/{run_id}" if repository and run_id else None
    if run_url and run_attempt and run_attempt > 1:
        run_url += f"/attempts/{run_attempt}"

    pr_number = head_sha = head_repo = base_repo = base_sha = None
    base_ref = _str(env.get("GITHUB_BASE_REF"))
    pr = event.get("pull_request")
    if isinstance(pr, dict):
        pr_number = _int(pr.get("number")) or _int(event.get("number"))
        head_sha = _str(_get(pr, "head", "sha"))
        head_repo = _str(_get(pr, "head", "repo", "full_name"))
        base_repo = _str(_get(pr, "base", "repo", "full_name"))
        base_sha = _str(_get(pr, "base", "sha"))
        base_ref = _str(_get(pr, "base", "ref")) or base_ref
    run = event.get("workflow_run")
    if event_name == "workflow_run" and isinstance(run, dict):
        # The privileged half of the fork pattern: describe the run that measured, not this one.
        head_sha = _str(run.get("head_sha"))
        head_repo = _str(_get(run, "head_repository", "full_name"))
        base_repo = _str(_get(run, "repository", "full_name")) or repository
        run_id = _int(run.get("id")) or run_id
        run_attempt = _int(run.get("run_attempt")) or run_attempt
        run_url = _str(run.get("html_url")) or run_url
        # GitHub fills pull_requests only for PRs from the same repository; for forks it is empty
        # and the number has to come from --pr (the artifact) instead.
        for candidate in run.get("pull_requests") or []:
            if _get(candidate, "head", "sha") in (None, head_sha):
                pr_number = _int(_get(candidate, "number"))
                break

    return ActionsContext(
        in_actions=env.get("GITHUB_ACTIONS") == "true",
        event_name=event_name,
        repository=repository,
        api_url=(env.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/"),
        server_url=server_url,
        token=_str(env.get("GITHUB_TOKEN")) or _str(env.get("GH_TOKEN")),
        run_id=run_id,
        run_attempt=run_attempt,
        run_url=run_url,
        sha=_str(env.get("GITHUB_SHA")),
        step_summary=_str(env.get("GITHUB_STEP_SUMMARY")),
        output=_str(env.get("GITHUB_OUTPUT")),
        pr_number=pr_number,
        head_sha=head_sha,
        head_repo=head_repo,
        base_repo=base_repo or repository,
        base_sha=base_sha,
        base_ref=base_ref,
    )


def load_context(env: Mapping[str, str]) -> ActionsContext:
    """Read ``GITHUB_EVENT_PATH`` (if set) and build the context; problems become warnings."""
    path = env.get("GITHUB_EVENT_PATH")
    event: dict[str, Any] | None = None
    problem: str | None = None
    if path:
        try:
            with open(path, encoding="utf-8") as f:
                loaded = json.load(f)
            if isinstance(loaded, dict):
                event = loaded
            else:
                problem = f"the event payload {path} is not a JSON object: ignored"
        except OSError as exc:
            problem = f"cannot read the event payload {path}: {exc.strerror or exc}"
        except json.JSONDecodeError as exc:
            problem = f"the event payload {path} is not JSON ({exc}): ignored"
    ctx = context_from(env, event)
    return replace(ctx, warnings=(*ctx.warnings, problem)) if problem else ctx
