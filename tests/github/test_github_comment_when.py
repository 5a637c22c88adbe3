"""``--comment-when`` (the Action's ``comment: always | changes | regressions | never``) against
the GitHub stand-in, through PyGithub's real HTTP calls, and its rule on plain data."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from ghserver import ACTIONS_BOT, GitHubStandIn
from ghserver.fixtures import PR, handler, make_report, stats

from perfgate.cli import main
from perfgate.github import publish
from perfgate.github.body import Stamp, format_stamp, marker, parse_stamp, verdict_digest
from perfgate.github.sticky import Existing, Outcome, when_skip
from perfgate.report import Report, Verdict

PASSING = make_report(handler("GET /products"), handler("POST /checkout"))
REGRESSED = make_report(handler("GET /products"), handler("POST /checkout", Verdict.REGRESSED))
NEW = make_report(
    handler("GET /products"), handler("POST /checkout"), handler("GET /x", Verdict.NEW)
)


class Runs:
    """Successive workflow runs on the PR (run ids 6001, 6002, …) with one ``comment_when``."""

    def __init__(self, standin: GitHubStandIn, env: dict[str, str], when: str) -> None:
        self.standin, self.env, self.when, self.run_id = standin, env, when, 6000

    def post(self, report: Report) -> str:
        self.run_id += 1
        err = io.StringIO()
        env = {**self.env, "GITHUB_RUN_ID": str(self.run_id)}
        warnings = publish(report, env=env, out=io.StringIO(), err=err, comment_when=self.when)
        assert warnings == []
        return err.getvalue()

    def comments(self) -> list[dict]:
        key = marker("example_service")
        return [c for c in self.standin.comment_list(PR) if key in c["body"].splitlines()]

    def shown_run(self) -> int | None:
        (c,) = self.comments()
        stamp = parse_stamp(c["body"])
        assert stamp is not None
        return stamp.run_id


def test_changes_comments_only_when_something_is_not_a_pass_or_the_verdicts_changed(
    standin, actions_env
):
    runs = Runs(standin, actions_env, "changes")
    err = runs.post(PASSING)
    assert runs.comments() == [] and "no comment needed, every handler passes" in err
    assert standin.requests("POST") == []

    runs.post(REGRESSED)  # 6002: something is not a pass: created
    assert runs.shown_run() == 6002 and "regression found" in runs.comments()[0]["body"]
    runs.post(REGRESSED)  # 6003: same verdicts, but not a pass: kept current
    assert runs.shown_run() == 6003
    runs.post(PASSING)  # 6004: verdicts changed: updated to the pass
    assert runs.shown_run() == 6004 and "no regression" in runs.comments()[0]["body"]
    err = runs.post(PASSING)  # 6005: all pass, as posted: left alone
    assert runs.shown_run() == 6004 and "its verdicts are unchanged" in err
    runs.post(NEW)  # 6006: a new handler is not a pass
    assert runs.shown_run() == 6006
    assert len(runs.comments()) == 1


def test_regressions_comments_on_failure_and_never_leaves_a_stale_red_comment(standin, actions_env):
    runs = Runs(standin, actions_env, "regressions")
    runs.post(PASSING)
    runs.post(NEW)  # not a failure
    assert runs.comments() == []

    runs.post(REGRESSED)  # 6003
    assert runs.shown_run() == 6003
    runs.post(REGRESSED)  # 6004: still failing: kept current
    assert runs.shown_run() == 6004
    runs.post(PASSING)  # 6005: fixed: the red comment is updated to the pass
    body = runs.comments()[0]["body"]
    assert runs.shown_run() == 6005 and "no regression" in body and "❌" not in body
    err = runs.post(PASSING)  # 6006: nothing new to say
    assert runs.shown_run() == 6005 and "its verdicts are unchanged" in err
    assert len(runs.comments()) == 1


def test_always_updates_on_every_run(standin, actions_env):
    runs = Runs(standin, actions_env, "always")
    runs.post(PASSING)
    runs.post(PASSING)
    assert runs.shown_run() == 6002


def test_never_calls_no_api_even_when_asked_to_comment(standin, actions_env):
    for comment in (None, True):
        _, err = io.StringIO(), io.StringIO()
        publish(PASSING, env=actions_env, comment=comment, comment_when="never", err=err)
    assert standin.requests() == []
    summary = Path(actions_env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    assert "perfgate" in summary  # the rest of the delivery still happens


def test_a_comment_from_an_older_perfgate_without_a_digest_is_updated_once(standin, actions_env):
    old = (
        f"{marker('example_service')}\n<!-- perfgate:stamp sha=- run=5000 attempt=1 time=- -->\nold"
    )
    standin.add_comment(PR, old, ACTIONS_BOT)
    runs = Runs(standin, actions_env, "changes")
    runs.post(PASSING)
    assert runs.shown_run() == 6001
    runs.post(PASSING)
    assert runs.shown_run() == 6001


def test_an_unknown_comment_when_is_a_programming_error(actions_env):
    with pytest.raises(ValueError, match="comment_when"):
        publish(PASSING, env=actions_env, comment_when="sometimes")  # type: ignore[arg-type]


def test_the_comment_command_takes_comment_when(standin, actions_env, tmp_path):
    path = tmp_path / "report.json"
    path.write_text(PASSING.to_json(), encoding="utf-8")
    clean = {k: None for k in os.environ if k.startswith(("GITHUB_", "PERFGATE_", "GH_"))}
    env = {**clean, **actions_env}
    args = [str(path), "--pr", str(PR)]
    result = CliRunner().invoke(main, ["comment", *args, "--comment-when", "changes"], env=env)
    assert result.exit_code == 0, result.output
    assert "no comment needed" in result.output and standin.comment_list(PR) == []
    result = CliRunner().invoke(main, ["comment", *args, "--comment-when", "sometimes"], env=env)
    assert result.exit_code == 2
    result = CliRunner().invoke(main, ["comment", *args], env=env)
    assert result.exit_code == 0 and len(standin.comment_list(PR)) == 1


# --- the rule alone ---------------------------------------------------------------------------


def existing(report: Report | None, run: int = 1) -> Existing | None:
    if report is None:
        return None
    stamp = Stamp(run_id=run, verdicts=verdict_digest(report))
    return Existing(1, f"{marker('k')}\n{format_stamp(stamp)}\n", "github-actions[bot]")


def _outcome(report: Report) -> Outcome:
    from perfgate.github.publish import outcome

    return outcome(report)


@pytest.mark.parametrize(
    ("when", "posted", "current", "writes"),
    [
        ("always", None, PASSING, True),
        ("always", PASSING, PASSING, True),
        ("never", None, REGRESSED, False),
        ("changes", None, PASSING, False),
        ("changes", None, NEW, True),
        ("changes", None, REGRESSED, True),
        ("changes", PASSING, PASSING, False),
        ("changes", REGRESSED, PASSING, True),
        ("changes", REGRESSED, REGRESSED, True),
        ("regressions", None, PASSING, False),
        ("regressions", None, NEW, False),
        ("regressions", None, REGRESSED, True),
        ("regressions", REGRESSED, REGRESSED, True),
        ("regressions", REGRESSED, PASSING, True),
        ("regressions", PASSING, PASSING, False),
        ("regressions", PASSING, NEW, True),
    ],
)
def test_when_skip(when, posted, current, writes):
    mine = Stamp(run_id=2, verdicts=verdict_digest(current))
    skip = when_skip(when, _outcome(current), mine, existing(posted))
    assert (skip is None) is writes, skip


def test_the_digest_follows_verdicts_not_numbers():
    slower = make_report(
        handler("GET /products", current=stats(1_090_000), delta_pct=9.0),
        handler("POST /checkout", current=stats(900_000), delta_pct=-10.0),
    )
    assert verdict_digest(slower) == verdict_digest(PASSING)
    assert verdict_digest(REGRESSED) != verdict_digest(PASSING)
    assert verdict_digest(make_report(handler("GET /a", target="t2"))) != verdict_digest(
        make_report(handler("GET /a", target="t1"))
    )
    stamp = Stamp(sha="a" * 40, run_id=3, verdicts=verdict_digest(PASSING))
    assert parse_stamp(format_stamp(stamp)) == stamp
