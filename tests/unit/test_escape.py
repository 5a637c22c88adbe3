"""The one module that neutralises report text per medium (perfgate.render.escape), and the
secret rules (perfgate.redact)."""

from __future__ import annotations

import re

import pytest

from perfgate.redact import redact, scrub_env, secret_values, withheld_from_tests
from perfgate.render import escape

HOSTILE = [
    "GET /x\n::error::forged",
    "GET /x\r::stop-commands::tok",
    "  ::add-mask::abc",
    "##[error]old form",
    "\x1b[31mred\x1b[0m \x00nul \x85nel \u2028ls \u202eevil",
    "@octocat &#64;octocat <img src=x> <details open> <!-- perfgate:marker:k -->",
    "[click](https://evil.example) ![p](https://evil.example/p.png) `code` \\[x](y) #12",
    "a|b",
]
# What the GitHub Actions runner reads as a command: a line starting (after leading whitespace)
# with "::", or holding the old "##[" form anywhere.
COMMAND = re.compile(r"^\s*::|##\[")


@pytest.mark.parametrize("s", HOSTILE)
def test_text_is_one_line_and_never_a_workflow_command(s):
    out = escape.text(s)
    assert "\n" not in out and "\r" not in out
    assert not re.search(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202e]", out)
    assert not COMMAND.search(out) and "::" not in out
    # and it still reads as the original: only invisible characters added, controls spelled out
    assert out.replace(escape.ZWSP, "") == escape.visible_controls(s)


def test_text_spells_out_controls():
    assert escape.text("a\nb\r\tc\x1b[0m\x00") == "a\\nb\\r\\tc\\x1b[0m\\x00"
    assert escape.text("GET /orders/{id}") == "GET /orders/{id}"  # ordinary names unchanged


def test_lines_keeps_the_breaks_but_no_line_is_a_command():
    block = "build failed:\n::error::forged\n  ::set-output name=x::y\nok"
    out = escape.lines(block)
    assert out.count("\n") == 3
    assert not any(COMMAND.search(line) for line in out.splitlines())


@pytest.mark.parametrize("s", HOSTILE)
def test_markdown_has_no_html_mentions_links_or_markers(s):
    for out in (escape.md(s), escape.cell(s)):
        assert "<" not in out and ">" not in out
        assert not re.search(r"@\w", out)  # no mention
        assert not re.search(r"&#\d", out)  # &#64; stays text: its & is escaped
        assert not re.search(r"(?<!\\)\[", out)  # no link or image opens
        assert not re.search(r"#\d", out)  # no issue reference
        assert "\n" not in out
    assert "|" not in escape.cell(s).replace("\\|", "")


def test_markdown_examples():
    assert escape.md("&#64;octocat") == "&amp;#\u200b64;octocat"  # renders as text: &#64;
    assert escape.md("@team") == "@\u200bteam"
    assert escape.md("<!-- x -->") == "&lt;!-- x --&gt;"
    assert escape.md("[a](b)") == "\\[a\\](b)"
    assert escape.md("\\[a](b)") == "\\\\\\[a\\](b)"  # a backslash cannot unescape the bracket
    assert escape.md("fixes #12") == "fixes #\u200b12"
    assert escape.cell("a|b") == "a\\|b"
    assert escape.md("GET /orders/{id}") == "GET /orders/{id}"


def test_code_span_and_html():
    assert escape.code("a`b\nc") == "`a'b\\nc`"
    assert escape.code("a|b", table=True) == "`a\\|b`"
    assert escape.gh_html("<b>@x</b>") == "&lt;b&gt;@\u200bx&lt;/b&gt;"
    assert escape.html('<a href="x">\n') == "&lt;a href=&quot;x&quot;&gt;\\n"
    assert escape.mermaid('a"b`c\nd', 48) == "\"a'b'c d\""


def test_workflow_command_data_and_properties():
    assert escape.data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape.prop("a: b, c%\n") == "a%3A b%2C c%25%0A"
    assert escape.data("x\x1b[31m") == "x\\x1b[31m"  # other controls spelled out
    # the runner looks for its old form ##[command] anywhere in a line: not in a title either
    assert escape.prop("svc: ##[error]x") == "svc%3A #\u200b#[error]x"
    assert "##[" not in escape.data("a ##[error]b") and "##[" not in escape.prop("##[group]")


# --- secrets ---------------------------------------------------------------------------------

ENV = {
    "GITHUB_TOKEN": "ghs_0123456789abcdef\n",
    "GH_TOKEN": "gho_fedcba9876543210",
    "ACTIONS_RUNTIME_TOKEN": "runtime-token-value",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "oidc-request-token",
    "ACTIONS_ID_TOKEN_REQUEST_URL": "https://token.actions.example/x",
    "ACTIONS_CACHE_URL": "https://cache.actions.example/",
    "NPM_TOKEN": "npm_secret_value",
    "AWS_SECRET_ACCESS_KEY": "aws/secret/key/value",
    "DB_PASSWORD": "hunter2hunter2",
    "SSH_AUTH_SOCK": "/tmp/ssh-agent.sock",
    "GITHUB_OUTPUT": "/runner/_temp/out",
    "GITHUB_ENV": "/runner/_temp/env",
    "GITHUB_STEP_SUMMARY": "/runner/_temp/summary",
    "PATH": "/usr/bin",
    "HOME": "/home/runner",
    "GOFLAGS": "-mod=mod",
    "GOPROXY": "https://proxy.golang.org",
    "GOAUTH": "netrc",
    "GITHUB_ACTIONS": "true",
    "GITHUB_SHA": "a" * 40,
    "CI": "true",
}


def test_the_code_under_test_gets_no_secret_and_no_file_command():
    env = scrub_env(ENV)
    assert set(env) == {
        "PATH",
        "HOME",
        "GOFLAGS",
        "GOPROXY",
        "GOAUTH",
        "GITHUB_ACTIONS",
        "GITHUB_SHA",
        "CI",
    }
    # a target's own env sets any name: its value is in the repository, no secret of the job's
    assert scrub_env(ENV, {"MY_TOKEN": "from-config"})["MY_TOKEN"] == "from-config"
    assert withheld_from_tests("github_token") and not withheld_from_tests("GOAUTH")


def test_secret_values_are_redacted_with_or_without_their_whitespace():
    values = secret_values(ENV)
    assert "ghs_0123456789abcdef" in values  # stripped of its trailing newline
    assert "/runner/_temp/out" not in values  # withheld from tests, but no secret
    text = "token ghs_0123456789abcdef\nand gho_fedcba9876543210, npm_secret_value"
    assert redact(text, values) == "token ***\nand ***, ***"
    assert secret_values({"GITHUB_TOKEN": "short"}) == []  # too short to redact safely


# --- every renderer, on one hostile report ----------------------------------------------------


def hostile_report():
    from perfgate.report import HandlerResult, HandlerStats, Mode, Report, TargetInfo, Verdict

    stats = HandlerStats(count=500, p50_ns=10, p95_ns=20, p99_ns=30, max_ns=40)
    slower = HandlerStats(count=500, p50_ns=10, p95_ns=40, p99_ns=50, max_ns=60)
    handlers = [
        HandlerResult(
            name=name,
            target="svc",
            verdict=Verdict.REGRESSED,
            baseline=stats,
            current=slower,
            delta_pct=100.0,
            threshold_pct=10.0,
            note=name,
        )
        for name in HOSTILE
    ]
    return Report(
        perfgate_version="1.0\n::error::v @team <img>",
        mode=Mode.AGAINST,
        against_ref="main\n::warning::ref",
        targets=[TargetInfo(name="svc", warnings=["w\n::add-mask::x"])],
        handlers=handlers,
        warnings=["<!-- other-bot -->\n::stop-commands::t"],
        gate_files_changed=["baselines/x.json\n::error::f"],
    )


def test_the_terminal_table_has_no_forged_line():
    from perfgate.render.text import render_text

    out = render_text(hostile_report())
    assert not any(COMMAND.search(line) for line in out.splitlines())
    assert "::" not in out and "\x1b" not in out
    assert out.count("\n") == 2 + len(HOSTILE) + 4  # header, rule, rows, notice, 2 warnings, sum


def test_markdown_html_and_junit_have_no_forged_markup():
    from perfgate.render.html import render_html
    from perfgate.render.junit import render_junit
    from perfgate.render.markdown import render_markdown

    report = hostile_report()
    md = render_markdown(report)
    assert "<!--" not in md and "<img" not in md and "<details open" not in md
    assert not re.search(r"@\w", md) and not re.search(r"&#\d", md)
    assert md.startswith("### ❌ perfgate: regression found\n")
    html = render_html(report)
    assert "<img" not in html and "<!-- other-bot" not in html and "<details open" not in html
    import xml.etree.ElementTree as ET

    ET.fromstring(render_junit(report).split("\n", 1)[1])  # well-formed XML
