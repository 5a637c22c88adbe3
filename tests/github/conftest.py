"""Fixtures for the GitHub tests: the REST stand-in, a simulated Actions environment, reports.

This directory must stay without ``__init__.py``: as a package named ``github`` it could shadow
PyGithub. ``tests/`` goes on ``sys.path`` so the stand-in and its test data import as
``ghserver``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ghserver import GitHubStandIn
from ghserver.fixtures import HEAD, MERGE_SHA, PR, handler, make_report, write_event

from perfgate.report import Report, Verdict


@pytest.fixture
def standin() -> Iterator[GitHubStandIn]:
    """A running stand-in with PR #7 (head ``HEAD``); fails the test on contract violations."""
    with GitHubStandIn() as server:
        server.add_pull(PR, HEAD)
        yield server
        assert server.contract_violations == [], "\n".join(server.contract_violations)


@pytest.fixture
def actions_env(tmp_path: Path, standin: GitHubStandIn) -> dict[str, str]:
    """Environment of a ``pull_request`` job on PR #7 of acme/shop, API on the stand-in."""
    summary = tmp_path / "step_summary.md"
    output = tmp_path / "github_output"
    summary.touch()
    output.touch()
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(write_event(tmp_path / "event.json")),
        "GITHUB_REPOSITORY": "acme/shop",
        "GITHUB_API_URL": standin.url,
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_TOKEN": "actions-token",
        "GITHUB_RUN_ID": "5001",
        "GITHUB_RUN_ATTEMPT": "1",
        "GITHUB_SHA": MERGE_SHA,
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(output),
        "PERFGATE_GITHUB_BACKOFF": "0.01",
        "PERFGATE_GITHUB_TIMEOUT": "1",
    }


@pytest.fixture
def report() -> Report:
    return make_report()


@pytest.fixture
def failing_report() -> Report:
    return make_report(
        handler("GET /products"),
        handler("POST /checkout", Verdict.REGRESSED, note="rank test p=0.004"),
        handler("GET /health", Verdict.MISSING),
        handler("GET /orders", Verdict.NEW),
        handler("POST /payment", Verdict.INSUFFICIENT),
    )
