"""`perfgate check --against REF`: same-machine A/B through a git worktree, on real commits."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from e2e_support import copy_module, perfgate, slow_down

pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.usefixtures("go_available")]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    root = copy_module(tmp_path_factory.mktemp("ab") / "repo")
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Test")
    git(root, "config", "user.email", "test@example.com")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "service")
    return root


def worktrees(repo: Path) -> list[str]:
    return [line for line in git(repo, "worktree", "list").splitlines() if line]


def test_slower_commit_fails_on_that_handler_alone(repo, tmp_path):
    git(repo, "checkout", "-qb", "slow")
    # About checkout's quiet p95 (≈ 280 µs on this machine class): unambiguous even on a busy
    # machine; detection rates for smaller changes are measured in docs/benchmarks.md.
    slow_down(repo / "example_service" / "checkout.go", "priceCart", 300)
    git(repo, "commit", "-qam", "slower checkout")
    report = tmp_path / "r.json"
    r = perfgate("check", "--against", "main", "--json-out", str(report), cwd=repo)
    assert r.code == 1, r.out + r.err
    data = json.loads(report.read_text())
    assert data["mode"] == "against" and data["against_ref"].startswith("main (")
    verdicts = {h["name"]: h["verdict"] for h in data["handlers"]}
    assert verdicts.pop("POST /checkout") == "regressed"
    # The others may move a little with it (it takes CPU from them): never a failure.
    assert set(verdicts.values()) <= {"pass", "improved", "inconclusive"}, verdicts
    assert "[base]" in r.err and "[head]" in r.err  # alternating runs, with progress
    assert len(worktrees(repo)) == 1  # the temporary worktree is gone
    # The committed baseline rides along: where and when it was measured, and how far the base
    # measured now sits from it, per handler and over the target.
    committed = json.loads((repo / "baselines" / "example_service.json").read_text())
    target = data["targets"][0]
    assert target["reference_created"] == committed["meta"]["created"]
    assert committed["meta"]["cpu"] in target["reference_machine"]
    base = {h["name"]: h for h in data["handlers"]}
    drifts = []
    for name, h in base.items():
        expected = (h["baseline"]["p95_ns"] / h["reference"]["p95_ns"] - 1) * 100
        assert h["reference_drift_pct"] == pytest.approx(expected), name
        drifts.append(expected)
    drifts.sort()
    mid = len(drifts) // 2
    median = drifts[mid] if len(drifts) % 2 else (drifts[mid - 1] + drifts[mid]) / 2
    assert target["reference_drift_pct"] == pytest.approx(median, abs=0.01)
    assert "reference: example_service: committed baseline (baselines/example_service.json" in r.out
    assert "from it (median over handlers)" in r.out


def test_commit_that_changes_nothing_measured_is_never_judged_slower(repo, tmp_path):
    """Unchanged code passes; at worst (about one check in a hundred here: a few runs' tails on
    one side, twice in a row) a handler is inconclusive "within run-to-run noise" — never
    regressed, never a failure."""
    git(repo, "checkout", "-q", "main")
    git(repo, "checkout", "-qb", "docs")
    (repo / "NOTES.md").write_text("nothing measured changes\n")
    git(repo, "add", "NOTES.md")
    git(repo, "commit", "-qm", "docs only")
    report = tmp_path / "r.json"
    r = perfgate("check", "--against", "main", "--json-out", str(report), cwd=repo)
    assert r.code in (0, 3), r.out + r.err
    assert "A/B against main" in r.out
    handlers = json.loads(report.read_text())["handlers"]
    odd = [h for h in handlers if h["verdict"] != "pass"]
    assert all(h["verdict"] == "inconclusive" for h in odd), odd
    assert all("within run-to-run noise" in h["note"] for h in odd), odd
    assert len(odd) <= 1 and (r.code == 3) == bool(odd), r.out


def test_worktree_removed_when_the_base_does_not_build(repo):
    git(repo, "checkout", "-q", "main")
    git(repo, "checkout", "-qb", "broken-base")
    health = repo / "example_service" / "health.go"
    health.write_text(health.read_text() + "\nfunc broken() { undefinedThing() }\n")
    git(repo, "commit", "-qam", "broken")
    git(repo, "checkout", "-q", "main")
    git(repo, "checkout", "-qb", "fixed")
    r = perfgate("check", "--against", "broken-base", cwd=repo)
    assert r.code == 2 and "could not build" in r.err and "Traceback" not in r.err
    assert len(worktrees(repo)) == 1


def test_a_base_without_the_perf_test_makes_every_handler_new(repo, tmp_path):
    """The change under review adds the perf test: the base has the package but no test the
    target's -run selects, so there is nothing to compare — handlers are new, not a failure
    and not a fallback."""
    git(repo, "checkout", "-q", "main")
    git(repo, "checkout", "-qb", "before-perf-test")
    git(repo, "rm", "-q", "example_service/perf_test.go")
    git(repo, "commit", "-qm", "no perf test yet")
    git(repo, "checkout", "-q", "main")
    report = tmp_path / "r.json"
    r = perfgate("check", "--against", "before-perf-test", "--json-out", str(report), cwd=repo)
    assert r.code == 0, r.out + r.err
    data = json.loads(report.read_text())
    assert data["handlers"] and {h["verdict"] for h in data["handlers"]} == {"new"}
    assert all(h["reference"] is not None for h in data["handlers"])  # the committed one
    (warning,) = data["targets"][0]["warnings"]
    assert "has no perf test for this target yet" in warning
    assert "matches '^TestPerfExampleService$'" in warning
    assert "[base]" not in r.err  # nothing was run at the base
    assert len(worktrees(repo)) == 1


def test_a_base_without_the_package_makes_every_handler_new(repo, tmp_path):
    git(repo, "checkout", "-q", "main")
    git(repo, "checkout", "-qb", "before-service")
    git(repo, "rm", "-rq", "example_service")
    git(repo, "commit", "-qm", "no service yet")
    git(repo, "checkout", "-q", "main")
    report = tmp_path / "r.json"
    r = perfgate("check", "--against", "before-service", "--json-out", str(report), cwd=repo)
    assert r.code == 0, r.out + r.err
    data = json.loads(report.read_text())
    assert {h["verdict"] for h in data["handlers"]} == {"new"}
    assert "package ./example_service is not there" in data["targets"][0]["warnings"][0]
    assert "not at the base: the perf test is new in this change" in r.out


def test_unknown_ref_is_bad_input(repo):
    r = perfgate("check", "--against", "no-such-branch", cwd=repo)
    assert r.code == 2 and "no-such-branch" in r.err
