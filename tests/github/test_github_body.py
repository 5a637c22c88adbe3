"""The comment body: keys, markers, stamps, cutting to GitHub's limits (pure)."""

from __future__ import annotations

from ghserver.fixtures import HEAD, handler, make_report

from perfgate.github.body import (
    COMMENT_LIMIT,
    CommentInfo,
    Stamp,
    build_comment,
    derive_comment_key,
    format_stamp,
    has_marker,
    marker,
    minimal_comment,
    parse_stamp,
    summary_markdown,
)
from perfgate.report import Verdict


def info(**kw: object) -> CommentInfo:
    defaults: dict = {
        "key": "example_service",
        "stamp": Stamp(sha=HEAD, run_id=5001, run_attempt=2, time="2026-01-05T09:30:00Z"),
        "commit_url": f"https://github.com/acme/shop/commit/{HEAD}",
        "run_url": "https://github.com/acme/shop/actions/runs/5001/attempts/2",
    }
    return CommentInfo(**{**defaults, **kw})


def test_key_from_targets_or_from_the_user():
    two = make_report(handler("GET /a", target="zeta"), handler("GET /b", target="alpha"))
    assert derive_comment_key(two) == "alpha+zeta"
    assert derive_comment_key(two, "nightly run #3") == "nightly-run-3"
    assert derive_comment_key(two, "-->") == "alpha+zeta"  # nothing usable left: the default
    long = derive_comment_key(two, "x" * 200)
    assert len(long) <= 64 and long != derive_comment_key(two, "x" * 199)


def test_marker_matches_whole_lines_only():
    body = f"{marker('svc')}\ntext"
    assert has_marker(body, "svc")
    assert not has_marker(body, "sv")
    assert not has_marker(f"{marker('svc+other')}\n", "svc")
    assert not has_marker(None, "svc")


def test_stamp_round_trip_and_junk():
    stamp = Stamp(sha=HEAD, run_id=42, run_attempt=3, time="2026-01-05T09:30:00Z")
    assert parse_stamp(f"x\n{format_stamp(stamp)}\ny") == stamp
    assert parse_stamp(format_stamp(Stamp())) == Stamp()
    assert parse_stamp("no stamp here") is None
    mangled = "<!-- perfgate:stamp sha=not-a-sha run=abc attempt= time=- -->"
    assert parse_stamp(mangled) == Stamp()
    # Values cannot break out of the HTML comment.
    evil = format_stamp(Stamp(time="2026 --> <script>"))
    assert evil.count("-->") == 1 and "<script>" not in evil


def test_comment_has_markers_table_head_commit_and_run_link():
    report = make_report(handler("GET /products"), handler("POST /checkout", Verdict.REGRESSED))
    body = build_comment(report, info())
    lines = body.splitlines()
    assert lines[0] == marker("example_service")
    assert lines[1].startswith("<!-- perfgate:stamp sha=" + HEAD)
    assert lines[2] == "### ❌ perfgate: regression found"
    assert "| POST /checkout" in body and "❌ regressed" in body
    assert f"[`{HEAD[:12]}`](https://github.com/acme/shop/commit/{HEAD})" in body
    assert "[workflow run](https://github.com/acme/shop/actions/runs/5001/attempts/2)" in body


def test_a_huge_table_is_cut_below_the_limit_failing_rows_first():
    hs = [handler(f"GET /item/{i:05d}/with/a/rather/long/route/name") for i in range(3000)]
    hs.append(handler("POST /checkout", Verdict.REGRESSED))
    hs.append(handler("GET /gone", Verdict.MISSING))
    body = build_comment(make_report(*hs), info())
    assert len(body) <= COMMENT_LIMIT
    table_rows = [ln for ln in body.splitlines() if ln.startswith("| ")]
    assert "POST /checkout" in table_rows[1] and "GET /gone" in table_rows[2]
    assert "✂️ Showing" in body and "of 3002 handlers" in body
    assert "[the workflow run](https://github.com/acme/shop/actions/runs/5001" in body
    assert body.rstrip().endswith("</sub>")


def test_a_small_table_is_not_cut():
    body = build_comment(make_report(), info())
    assert "✂️" not in body


def test_summary_is_cut_in_utf8_bytes():
    hs = [handler(f"GET /ü/{i:05d}") for i in range(2000)]  # multi-byte characters
    text = summary_markdown(make_report(*hs), 20_000)
    assert len(text.encode("utf-8")) <= 20_000
    assert "a job summary holds at most 1 MiB" in text


def test_heading_that_does_not_fit_leaves_a_summary_line():
    report = make_report()
    report.warnings = ["w" * 5000]
    text = summary_markdown(report, 1000)
    assert len(text.encode("utf-8")) <= 1000
    assert text.startswith("perfgate: PASS")


def test_minimal_comment_lists_failing_handlers():
    hs = [handler(f"GET /{i}", Verdict.REGRESSED) for i in range(25)]
    body = minimal_comment(make_report(*hs), info())
    assert body.splitlines()[0] == marker("example_service")
    assert body.count(" — regressed\n") == 20 and "… and 5 more" in body
    assert len(body) < 3000


def test_untrusted_names_cannot_mention_people_or_fake_markers():
    evil = make_report(
        handler("GET /x @acme/security-team", Verdict.REGRESSED, note="<!-- perfgate:marker:k -->"),
        targets=["example_service"],
    )
    for body in (build_comment(evil, info()), minimal_comment(evil, info())):
        assert "@acme" not in body and "@\u200bacme/security-team" in body
        assert body.count("<!--") == 2  # only perfgate's own marker and stamp


def test_main_s_trends_are_in_the_comment_and_escaped_too():
    from perfgate.report import TrendKind, TrendNote

    report = make_report(handler("GET /x", Verdict.PASS), targets=["example_service"])
    report.trends = [
        TrendNote(
            target="example_service",
            handler="POST /pay @acme/ops <!-- x -->",
            kind=TrendKind.STEP,
            since_commit="abc1234" + "0" * 33,
            merges=9,
            before_p95_ns=250_000,
            after_p95_ns=285_000,
            delta_pct=14.0,
            recent_commits=["abc1234" + "0" * 33] * 3,
            recent_p95_ns=[250_000, 285_000, 286_000],
        )
    ]
    body = build_comment(report, info())
    assert "**On main** (recorded history):" in body
    assert "+14% over the last 9 merges, since abc1234" in body
    assert "@acme" not in body and body.count("<!--") == 2
