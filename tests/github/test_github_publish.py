"""publish() against the GitHub stand-in, through PyGithub's real HTTP calls.

Nothing inside PyGithub or perfgate is patched: the environment points ``GITHUB_API_URL`` at
the stand-in, which also checks every exchange against GitHub's OpenAPI description.
"""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

from ghserver import ACTIONS_BOT, Fault, GitHubStandIn, User
from ghserver.fixtures import HEAD, NEWER_HEAD, PR, handler, make_report, write_event

from perfgate.github import publish
from perfgate.github.body import COMMENT_LIMIT, marker
from perfgate.report import Report, Verdict

OTHERS = [User("alice", 11), User("bob", 12), User("renovate[bot]", 13, "Bot")]


def run(report: Report, env: dict[str, str], **kw: object) -> tuple[list[str], str, str]:
    out, err = io.StringIO(), io.StringIO()
    warnings = publish(report, env=env, out=out, err=err, **kw)  # type: ignore[arg-type]
    return warnings, out.getvalue(), err.getvalue()


def ours(standin: GitHubStandIn, key: str = "example_service") -> list[dict]:
    return [c for c in standin.comment_list(PR) if marker(key) in c["body"].splitlines()]


def test_one_comment_among_120_others_then_edited_in_place(standin, actions_env, report):
    for i in range(120):
        standin.add_comment(PR, f"comment {i}: LGTM", OTHERS[i % len(OTHERS)])

    warnings, _, err = run(report, actions_env)

    assert warnings == []
    mine = ours(standin)
    assert len(mine) == 1 and mine[0]["user"]["login"] == ACTIONS_BOT.login
    body = mine[0]["body"]
    assert "| GET /products" in body and "| POST /checkout" in body
    assert "no regression" in body
    assert HEAD[:12] in body and f"https://github.com/acme/shop/commit/{HEAD}" in body
    assert "https://github.com/acme/shop/actions/runs/5001" in body
    assert "PR comment created" in err
    # Both pages were read (the comment could have been on either).
    assert standin.requests("GET", "page=2")

    # The next run (a regression now) edits the same comment; it sits on page 2 of 2.
    failing = make_report(handler("GET /products"), handler("POST /checkout", Verdict.REGRESSED))
    env = {**actions_env, "GITHUB_RUN_ID": "5002"}
    warnings, _, err = run(failing, env)

    assert warnings == []
    again = ours(standin)
    assert [c["id"] for c in again] == [mine[0]["id"]]
    assert "regression found" in again[0]["body"] and "❌ regressed" in again[0]["body"]
    assert "runs/5002" in again[0]["body"]
    assert len(standin.comment_list(PR)) == 121
    assert "PR comment updated" in err


def test_duplicates_from_racing_jobs_are_reduced_to_the_newest(standin, actions_env, report):
    run(report, actions_env)
    first = ours(standin)[0]
    # A second job raced and created another copy (same marker, same author).
    dup_id = standin.add_comment(PR, first["body"], ACTIONS_BOT)
    standin.add_comment(PR, "unrelated", OTHERS[0])

    warnings, _, err = run(report, actions_env)

    assert warnings == []
    left = ours(standin)
    assert [c["id"] for c in left] == [dup_id]
    assert "deleted duplicate" in err
    assert standin.requests("DELETE") == [f"/repos/acme/shop/issues/comments/{first['id']}"]


def test_someone_elses_comment_with_the_marker_is_left_alone(standin, actions_env, report):
    quoted = f"I copied this:\n{marker('example_service')}\nold table"
    human = standin.add_comment(PR, quoted, OTHERS[0])

    run(report, actions_env)

    bodies = {c["id"]: c["body"] for c in standin.comment_list(PR)}
    assert bodies[human] == quoted
    assert len(ours(standin)) == 2  # the human's quote and perfgate's own


def test_a_personal_token_matches_its_own_login(standin, actions_env, report):
    env = {**actions_env, "GITHUB_TOKEN": "user-token"}
    run(report, env)
    run(report, env)
    mine = ours(standin)
    assert len(mine) == 1 and mine[0]["user"]["login"] == "perfgate-dev"
    assert standin.requests("GET", "/user")


def test_outside_actions_an_app_token_falls_back_to_the_marker(standin, report):
    env = {
        "GITHUB_REPOSITORY": "acme/shop",
        "GITHUB_API_URL": standin.url,
        "GITHUB_TOKEN": "actions-token",
        "PERFGATE_GITHUB_BACKOFF": "0",
    }
    # Someone else's comment carrying the marker: with no identity, the marker decides.
    other = standin.add_comment(PR, f"{marker('example_service')}\nold", User("my-app[bot]", 99))
    from perfgate.github.publish import CommentTarget, post_comment
    from perfgate.github.retry import RetryPolicy

    target = CommentTarget(
        api_url=env["GITHUB_API_URL"], token="actions-token", repository="acme/shop", pr_number=PR
    )
    warnings = post_comment(
        report, target, key="example_service", policy=RetryPolicy(backoff=0), log=lambda m: None
    )
    assert warnings == []
    assert [c["id"] for c in ours(standin)] == [other]
    assert "GET /products" in ours(standin)[0]["body"]


def test_fork_token_gets_a_workflow_run_warning(standin, actions_env, failing_report, tmp_path):
    env = {
        **actions_env,
        "GITHUB_TOKEN": "fork-token",
        "GITHUB_EVENT_PATH": str(write_event(tmp_path / "fork.json", head_repo="mallory/shop")),
    }
    warnings, out, _ = run(failing_report, env)

    assert len(warnings) == 1
    assert "Resource not accessible by integration" in warnings[0]
    assert "workflow_run" in warnings[0] and "perfgate comment" in warnings[0]
    assert "verdict is unaffected" in warnings[0]
    assert ours(standin) == []
    assert failing_report.verdict == "fail"  # untouched; the caller exits 1 from it
    assert "::warning title=perfgate::" in out
    assert len(standin.requests("POST")) == 1  # a 403 is not retried


def test_server_errors_are_retried_until_success(standin, actions_env, report):
    standin.inject(Fault("GET", r"/pulls/7$", status=502, body={"message": "Server Error"}))
    standin.inject(Fault("POST", r"/comments$", status=503, body={"message": "Unavailable"}))

    warnings, _, err = run(report, actions_env)

    assert warnings == []
    assert len(ours(standin)) == 1
    assert len(standin.requests("GET", "/pulls/7")) == 3
    assert err.count("retrying in") == 2


def test_persistent_server_errors_end_in_one_warning(standin, actions_env, report):
    standin.inject(Fault("*", r"/pulls/7$", status=500, body={"message": "Server Error"}, times=99))
    start = time.monotonic()

    warnings, _, _ = run(report, {**actions_env, "PERFGATE_GITHUB_RETRIES": "3"})

    assert time.monotonic() - start < 5
    assert len(warnings) == 1 and "HTTP 500" in warnings[0] and "3 attempts" in warnings[0]
    assert len(standin.requests("GET", "/pulls/7")) == 3


def test_a_timed_out_request_is_retried(standin, actions_env, report):
    standin.inject(Fault("GET", r"/pulls/7$", delay=1.6, after_effect=True))

    warnings, _, err = run(report, actions_env)

    assert warnings == []
    assert "timed out" in err
    assert len(ours(standin)) == 1


def test_a_create_that_timed_out_but_happened_is_not_duplicated(standin, actions_env, report):
    standin.inject(Fault("POST", r"/comments$", delay=1.6, after_effect=True))

    warnings, _, _ = run(report, actions_env)

    assert warnings == []
    assert len(ours(standin)) == 1
    assert len(standin.requests("POST")) == 1  # the retry found it and edited it instead
    assert len(standin.requests("PATCH")) == 1


def test_retry_after_is_honoured(standin, actions_env, report):
    secondary = {
        "message": "You have exceeded a secondary rate limit. Please wait a few minutes "
        "before you try again.",
        "documentation_url": "https://docs.github.com/rest/using-the-rest-api/rate-limits",
    }
    standin.inject(Fault("POST", r"/comments$", 403, secondary, {"Retry-After": "1"}))
    start = time.monotonic()

    warnings, _, err = run(report, actions_env)

    assert time.monotonic() - start >= 1.0
    assert warnings == []
    assert "retrying in 1.0s" in err
    assert len(ours(standin)) == 1


def test_429_with_retry_after_is_honoured(standin, actions_env, report):
    standin.inject(Fault("GET", r"/comments", 429, {"message": "Too Many"}, {"Retry-After": "1"}))
    warnings, _, _ = run(report, actions_env)
    assert warnings == []
    assert len(ours(standin)) == 1


def test_primary_rate_limit_waits_for_a_near_reset(standin, actions_env, report):
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(time.time()))}
    body = {"message": "API rate limit exceeded for installation ID 1."}
    standin.inject(Fault("GET", r"/pulls/7$", 403, body, headers))

    warnings, _, _ = run(report, actions_env)

    assert warnings == []
    assert len(ours(standin)) == 1


def test_a_rate_limit_beyond_the_wait_budget_gives_up_at_once(standin, actions_env, report):
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(time.time()) + 3600)}
    body = {"message": "API rate limit exceeded for installation ID 1."}
    standin.inject(Fault("GET", r"/pulls/7$", 403, body, headers))
    start = time.monotonic()

    warnings, _, _ = run(report, actions_env)

    assert time.monotonic() - start < 2
    assert len(warnings) == 1 and "rate limit" in warnings[0] and "not waiting" in warnings[0]
    assert ours(standin) == []


def test_bad_credentials_and_missing_pr_are_warnings(standin, actions_env, report, tmp_path):
    warnings, _, _ = run(report, {**actions_env, "GITHUB_TOKEN": "expired"})
    assert len(warnings) == 1 and "401" in warnings[0] and "Bad credentials" in warnings[0]

    env = {**actions_env, "GITHUB_EVENT_PATH": str(write_event(tmp_path / "e.json", number=99))}
    warnings, _, _ = run(report, env)
    assert len(warnings) == 1 and "404" in warnings[0] and "acme/shop#99" in warnings[0]
    assert ours(standin) == []


def test_a_long_table_is_cut_to_fit_with_a_note(standin, actions_env):
    hs = [handler(f"GET /api/v1/catalogue/item-{i:04d}/details") for i in range(1500)]
    hs[1234] = handler("POST /checkout", Verdict.REGRESSED)
    big = make_report(*hs)

    warnings, _, _ = run(big, actions_env)

    assert warnings == []
    body = ours(standin)[0]["body"]
    assert len(body) <= COMMENT_LIMIT
    assert "✂️ Showing" in body and "of 1500 handlers" in body and "job summary" in body
    assert "| POST /checkout" in body  # failing rows are kept first
    summary = Path(actions_env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    assert summary.count("/details") == 1499  # the job summary has the full table


def test_a_422_for_the_body_falls_back_to_a_short_comment(actions_env, failing_report):
    with GitHubStandIn(max_body=1000) as small:
        small.add_pull(PR, HEAD)
        env = {**actions_env, "GITHUB_API_URL": small.url}

        warnings, _, _ = run(failing_report, env)

        assert len(warnings) == 1 and "422" in warnings[0] and "body is too long" in warnings[0]
        (comment,) = small.comment_list(PR)
        assert len(comment["body"]) <= 1000
        assert "regression found" in comment["body"] and "POST /checkout" in comment["body"]
        assert small.contract_violations == []


def test_an_older_head_does_not_overwrite_a_newer_result(standin, actions_env, tmp_path):
    newer_env = {
        **actions_env,
        "GITHUB_RUN_ID": "6000",
        "GITHUB_EVENT_PATH": str(write_event(tmp_path / "new.json", head_sha=NEWER_HEAD)),
    }
    standin.set_head(PR, NEWER_HEAD)
    newer = make_report(handler("GET /products"), handler("POST /checkout", Verdict.REGRESSED))
    run(newer, newer_env)
    before = ours(standin)[0]

    # The run for the older head (started earlier, finished later) must not overwrite it.
    warnings, _, err = run(make_report(), actions_env)

    assert warnings == []
    after = ours(standin)
    assert [(c["id"], c["body"]) for c in after] == [(before["id"], before["body"])]
    assert "left as it is" in err and "newer result" in err
    assert not standin.requests("PATCH")


def test_the_current_head_replaces_an_older_result(standin, actions_env, tmp_path, report):
    run(report, actions_env)
    standin.set_head(PR, NEWER_HEAD)
    env = {
        **actions_env,
        "GITHUB_RUN_ID": "6000",
        "GITHUB_EVENT_PATH": str(write_event(tmp_path / "new.json", head_sha=NEWER_HEAD)),
    }
    run(make_report(handler("GET /products", Verdict.IMPROVED)), env)
    (comment,) = ours(standin)
    assert NEWER_HEAD[:12] in comment["body"] and "improved" in comment["body"]


def test_summary_outputs_and_annotations(standin, actions_env, failing_report):
    warnings, out, _ = run(failing_report, actions_env, report_path="out/perfgate.json")

    assert warnings == []
    summary = Path(actions_env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    assert summary.startswith("### ❌ perfgate: regression found")
    assert "| POST /checkout" in summary

    outputs = parse_outputs(Path(actions_env["GITHUB_OUTPUT"]).read_text(encoding="utf-8"))
    assert outputs == {"verdict": "fail", "report": "out/perfgate.json", "regressed": "1"}

    lines = out.splitlines()
    errors = [ln for ln in lines if ln.startswith("::error ")]
    warns = [ln for ln in lines if ln.startswith("::warning ")]
    assert len(errors) == 2 and len(warns) == 2
    assert errors[0].startswith("::error title=perfgate%3A example_service%3A POST /checkout")
    assert "rose from 1.0ms to 1.5ms (+50.0%25" in errors[0]
    assert "missing" in errors[1]


def parse_outputs(text: str) -> dict[str, str]:
    """Read GITHUB_OUTPUT's ``name<<DELIM`` blocks back, as the runner does."""
    values: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        m = re.fullmatch(r"([\w-]+)<<(\S+)", line)
        assert m, line
        body = []
        for inner in lines:
            if inner == m.group(2):
                break
            body.append(inner)
        values[m.group(1)] = "\n".join(body)
    return values


def test_no_comment_outside_a_pull_request(standin, actions_env, report):
    env = {**actions_env, "GITHUB_EVENT_NAME": "push"}
    warnings, _, _ = run(report, env)
    assert warnings == [] and standin.requests() == []

    warnings, _, _ = run(report, actions_env, comment=False)
    assert warnings == [] and standin.requests() == []


def test_comment_true_without_a_token_warns(standin, report):
    warnings, _, _ = run(report, {"GITHUB_REPOSITORY": "acme/shop"}, comment=True)
    assert len(warnings) == 1 and "GITHUB_TOKEN" in warnings[0]
    assert standin.requests() == []


def test_dry_run_prints_the_body_and_calls_nothing(standin, actions_env, report):
    warnings, out, _ = run(report, actions_env, dry_run=True)
    assert warnings == []
    assert marker("example_service") in out and "| GET /products" in out
    assert standin.requests() == []


def test_a_comment_key_keeps_separate_comments(standin, actions_env):
    run(make_report(handler("GET /a", target="svc_a")), actions_env)
    run(make_report(handler("GET /b", target="svc_b")), actions_env)
    run(make_report(handler("GET /b", target="svc_b")), actions_env, comment_key="nightly")
    assert len(ours(standin, "svc_a")) == 1
    assert len(ours(standin, "svc_b")) == 1
    assert len(ours(standin, "nightly")) == 1
