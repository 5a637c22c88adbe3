"""Classifying GitHub failures and the bounded retry loop (no network, a fake clock)."""

from __future__ import annotations

import pytest
from github import GithubException
from requests import exceptions as rx

from perfgate.github.retry import (
    GitHubApiError,
    Kind,
    RetryPolicy,
    call_with_retry,
    classify,
    problem_from_exception,
)

NOW = 1_767_600_000.0


@pytest.mark.parametrize(
    ("status", "headers", "message", "kind", "wait"),
    [
        (403, {}, "Resource not accessible by integration", Kind.FORBIDDEN, None),
        (
            403,
            {"Retry-After": "30"},
            "You have exceeded a secondary rate limit",
            Kind.RATE_LIMITED,
            30,
        ),
        (
            403,
            {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 9)},
            "API rate limit exceeded",
            Kind.RATE_LIMITED,
            10,
        ),
        (
            403,
            {"X-RateLimit-Remaining": "4000"},
            "You have exceeded a secondary rate limit",
            Kind.RATE_LIMITED,
            None,
        ),
        (429, {}, "Too many", Kind.RATE_LIMITED, None),
        (429, {"retry-after": "Mon, 05 Jan 2026 08:00:05 GMT"}, "", Kind.RATE_LIMITED, None),
        (401, {}, "Bad credentials", Kind.AUTH, None),
        (404, {}, "Not Found", Kind.NOT_FOUND, None),
        (422, {}, "Validation Failed", Kind.INVALID, None),
        (500, {}, "Server Error", Kind.TRANSIENT, None),
        (503, {"Retry-After": "2"}, "", Kind.TRANSIENT, 2),
        (418, {}, "teapot", Kind.OTHER, None),
    ],
)
def test_classify(status, headers, message, kind, wait):
    problem = classify(status, headers, message, NOW)
    assert problem.kind == kind
    if wait is not None:
        assert problem.wait == wait


def test_retry_after_as_a_date():
    problem = classify(429, {"Retry-After": "Mon, 05 Jan 2026 08:00:05 GMT"}, "", 1_767_600_000.0)
    assert problem.wait == pytest.approx(5.0)


def test_exceptions_from_pygithub_and_requests():
    exc = GithubException(
        422, {"message": "Validation Failed", "errors": [{"message": "too long"}]}, {}
    )
    problem = problem_from_exception(exc)
    assert problem.kind == Kind.INVALID and problem.message == "Validation Failed (too long)"
    assert problem_from_exception(rx.ReadTimeout()).kind == Kind.TRANSIENT
    assert problem_from_exception(rx.ConnectionError("refused")).kind == Kind.TRANSIENT
    assert problem_from_exception(ValueError("bug")) is None


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def failing(*excs: BaseException):
    queue = list(excs)

    def op() -> str:
        if queue:
            raise queue.pop(0)
        return "ok"

    return op


def test_retries_transient_trouble_with_exponential_backoff():
    t = FakeTime()
    op = failing(
        GithubException(502, {"message": "x"}, {}), rx.ReadTimeout(), GithubException(500, None, {})
    )
    assert call_with_retry(op, RetryPolicy(backoff=1.0), sleep=t.sleep, clock=t.clock) == "ok"
    assert t.sleeps == [1.0, 2.0, 4.0]


def test_gives_up_after_the_attempts():
    t = FakeTime()
    op = failing(*[GithubException(500, {"message": "x"}, {}) for _ in range(9)])
    with pytest.raises(GitHubApiError) as info:
        call_with_retry(op, RetryPolicy(attempts=3, backoff=0.5), sleep=t.sleep, clock=t.clock)
    assert info.value.attempts == 3 and "HTTP 500" in str(info.value)
    assert t.sleeps == [0.5, 1.0]


def test_never_waits_beyond_the_budget():
    t = FakeTime()
    op = failing(*[GithubException(500, {"message": "x"}, {}) for _ in range(9)])
    policy = RetryPolicy(attempts=10, backoff=10.0, max_wait=60.0)
    with pytest.raises(GitHubApiError) as info:
        call_with_retry(op, policy, sleep=t.sleep, clock=t.clock)
    assert sum(t.sleeps) <= 60.0 and "not waiting" in str(info.value)


def test_honours_retry_after_and_does_not_retry_what_cannot_succeed():
    t = FakeTime()
    limited = GithubException(429, {"message": "slow down"}, {"Retry-After": "7"})
    assert call_with_retry(failing(limited), RetryPolicy(), sleep=t.sleep, clock=t.clock) == "ok"
    assert t.sleeps == [7.0]

    t = FakeTime()
    forbidden = GithubException(403, {"message": "Resource not accessible by integration"}, {})
    with pytest.raises(GitHubApiError) as info:
        call_with_retry(failing(forbidden), RetryPolicy(), sleep=t.sleep, clock=t.clock)
    assert info.value.problem.kind == Kind.FORBIDDEN and t.sleeps == []


def test_bugs_are_not_swallowed():
    with pytest.raises(ZeroDivisionError):
        call_with_retry(failing(ZeroDivisionError()), RetryPolicy())


def test_policy_from_env():
    p = RetryPolicy.from_env(
        {
            "PERFGATE_GITHUB_BACKOFF": "0.01",
            "PERFGATE_GITHUB_RETRIES": "2",
            "PERFGATE_GITHUB_TIMEOUT": "3",
        }
    )
    assert (p.backoff, p.attempts, p.timeout, p.write_interval) == (0.01, 2, 3, 0.01)
    assert RetryPolicy.from_env({"PERFGATE_GITHUB_BACKOFF": "soon"}) == RetryPolicy()
    assert RetryPolicy.from_env({"PERFGATE_GITHUB_MAX_WAIT": "9999"}).max_wait == 600.0
