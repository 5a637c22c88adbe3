"""What went wrong talking to GitHub, whether to try again, and a bounded retry loop.

:func:`classify` maps an HTTP status, headers and GitHub's error message to an
:class:`ApiProblem` (pure). :func:`problem_from_exception` does the same for what PyGithub and
requests raise. :func:`call_with_retry` runs an operation until it succeeds, fails in a way that
retrying cannot fix, or the :class:`RetryPolicy`'s time budget is spent; it then raises
:class:`GitHubApiError`, which publishing turns into a warning.

PyGithub's own retry (urllib3 ``Retry``) is switched off by the caller: it does not retry PATCH,
and its rate-limit waits are unbounded in older versions. Retrying whole operations here keeps
every wait visible and bounded.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar

T = TypeVar("T")


class Kind(str, Enum):
    """The classes of failure that lead to different handling."""

    FORBIDDEN = "forbidden"  # 403 without rate limiting: read-only token (fork PR), no permission
    AUTH = "auth"  # 401: bad or missing credentials
    NOT_FOUND = "not_found"  # 404: no such repo/PR, or the token cannot see it
    INVALID = "invalid"  # 422: GitHub refused the request (e.g. body too long)
    RATE_LIMITED = "rate_limited"  # 403/429 with Retry-After, x-ratelimit-remaining: 0, ...
    TRANSIENT = "transient"  # 5xx, timeouts, dropped connections
    OTHER = "other"  # anything else: not retried


RETRYABLE = frozenset({Kind.RATE_LIMITED, Kind.TRANSIENT})


@dataclass(frozen=True)
class ApiProblem:
    """One failed request, classified. ``wait`` is the delay GitHub asked for, if it did."""

    kind: Kind
    status: int | None
    message: str
    wait: float | None = None

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE

    def describe(self) -> str:
        """E.g. ``HTTP 403: Resource not accessible by integration``."""
        return f"HTTP {self.status}: {self.message}" if self.status else self.message


class GitHubApiError(Exception):
    """An operation failed for good (after any retries). Internal: never leaves publishing."""

    def __init__(self, problem: ApiProblem, attempts: int = 1, note: str = "") -> None:
        self.problem = problem
        self.attempts = attempts
        self.note = note
        tries = f" (after {attempts} attempts)" if attempts > 1 else ""
        super().__init__(f"{problem.describe()}{tries}{f'; {note}' if note else ''}")


def _header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return str(value)
    return None


def _retry_after(value: str | None, now: float) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


def classify(
    status: int, headers: Mapping[str, Any] | None, message: str | None, now: float
) -> ApiProblem:
    """Classify a failed response. ``now`` is the wall-clock time (epoch seconds)."""
    message = message or ""
    lower = message.lower()
    retry_after = _retry_after(_header(headers, "retry-after"), now)
    remaining = _header(headers, "x-ratelimit-remaining")
    reset = _header(headers, "x-ratelimit-reset")
    if status in (403, 429):
        if retry_after is not None:
            return ApiProblem(Kind.RATE_LIMITED, status, message, retry_after)
        if remaining == "0":
            wait = max(0.0, int(reset) - now) + 1.0 if reset and reset.isdigit() else None
            return ApiProblem(Kind.RATE_LIMITED, status, message, wait)
        if status == 429 or "rate limit" in lower:
            return ApiProblem(Kind.RATE_LIMITED, status, message)
        return ApiProblem(Kind.FORBIDDEN, status, message)
    if status == 401:
        return ApiProblem(Kind.AUTH, status, message)
    if status == 404:
        return ApiProblem(Kind.NOT_FOUND, status, message)
    if status == 422:
        return ApiProblem(Kind.INVALID, status, message)
    if status >= 500 or status == 408:
        return ApiProblem(Kind.TRANSIENT, status, message, retry_after)
    return ApiProblem(Kind.OTHER, status, message)


def _message_of(data: Any) -> str:
    if isinstance(data, dict):
        msg = data.get("message") or data.get("data") or ""
        errors = data.get("errors")
        if isinstance(errors, list):
            details = [e.get("message") for e in errors if isinstance(e, dict) and e.get("message")]
            if details:
                msg = f"{msg} ({'; '.join(details)})" if msg else "; ".join(details)
        return str(msg)
    return str(data or "")


def problem_from_exception(exc: BaseException, now: float | None = None) -> ApiProblem | None:
    """Classify what PyGithub or requests raised; None for exceptions that are not API trouble."""
    from github import GithubException
    from requests import exceptions as rx

    now = time.time() if now is None else now
    if isinstance(exc, GithubException):
        return classify(exc.status, exc.headers, _message_of(exc.data), now)
    if isinstance(exc, rx.Timeout):
        return ApiProblem(Kind.TRANSIENT, None, "the request timed out")
    if isinstance(exc, rx.ConnectionError):
        return ApiProblem(Kind.TRANSIENT, None, f"could not connect: {exc}")
    if isinstance(exc, rx.RequestException):
        return ApiProblem(Kind.OTHER, None, f"request failed: {exc}")
    return None


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try. Waits are ``backoff``, ``2*backoff``, ``4*backoff``… or what GitHub asks
    for (``Retry-After``, rate-limit reset), and never more than ``max_wait`` seconds in all.

    ``timeout`` is per request in whole seconds (PyGithub takes an int). ``write_interval`` is
    PyGithub's pause between writes, GitHub's advice against secondary rate limits.
    """

    attempts: int = 4
    backoff: float = 1.0
    max_wait: float = 60.0
    timeout: int = 15
    write_interval: float = 1.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> RetryPolicy:
        """Defaults, overridden by ``PERFGATE_GITHUB_{RETRIES,BACKOFF,MAX_WAIT,TIMEOUT}``.

        ``PERFGATE_GITHUB_BACKOFF`` also scales the pause between writes (at most 1 s), so tests
        can run with tiny waits. Values that do not parse are ignored.
        """

        def num(name: str, default: float, lo: float, hi: float) -> float:
            try:
                value = float(env.get(name, ""))
            except ValueError:
                return default
            return min(max(value, lo), hi)

        backoff = num("PERFGATE_GITHUB_BACKOFF", cls.backoff, 0.0, 30.0)
        return cls(
            attempts=int(num("PERFGATE_GITHUB_RETRIES", cls.attempts, 1, 10)),
            backoff=backoff,
            max_wait=num("PERFGATE_GITHUB_MAX_WAIT", cls.max_wait, 0.0, 600.0),
            timeout=int(num("PERFGATE_GITHUB_TIMEOUT", cls.timeout, 1, 120)),
            write_interval=min(backoff, cls.write_interval),
        )


def delay_for(problem: ApiProblem, attempt: int, policy: RetryPolicy) -> float:
    """Seconds to wait before attempt ``attempt + 1``: GitHub's word, else exponential."""
    if problem.wait is not None:
        return problem.wait
    return policy.backoff * (2 ** (attempt - 1))


def call_with_retry(
    op: Callable[[], T],
    policy: RetryPolicy,
    *,
    on_retry: Callable[[str], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """Run ``op``; on retryable API trouble wait and run it again, within ``policy``.

    ``op`` must be safe to repeat as a whole (perfgate's comment sync is: each attempt looks the
    comment up again before writing, so a create that timed out but happened is found, not
    duplicated). Raises :class:`GitHubApiError` when giving up; other exceptions pass through.
    """
    start = clock()
    attempt = 0
    while True:
        attempt += 1
        try:
            return op()
        except GitHubApiError:
            raise
        except Exception as exc:
            problem = problem_from_exception(exc)
            if problem is None:
                raise
            if not problem.retryable:
                raise GitHubApiError(problem, attempt) from None
            if attempt >= policy.attempts:
                raise GitHubApiError(problem, attempt, "gave up") from None
            delay = delay_for(problem, attempt, policy)
            if clock() - start + delay > policy.max_wait:
                note = f"not waiting {delay:.0f}s more (limit {policy.max_wait:.0f}s in all)"
                raise GitHubApiError(problem, attempt, note) from None
            if on_retry:
                on_retry(f"{problem.describe()}; retrying in {delay:.1f}s")
            sleep(delay)
