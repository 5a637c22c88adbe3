"""The pictures: the Mermaid chart in Markdown, the inline-SVG HTML report, and that the HTML
report really renders (headless Chromium screenshot, when Chromium is installed)."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from perfgate.render.charts import (
    BASE_COLOR,
    CURRENT_COLOR,
    MERMAID_MAX_BARS,
    Bar,
    Series,
    mermaid_p95_chart,
    quantile_svg,
    tail_position,
)
from perfgate.render.html import render_html
from perfgate.render.markdown import render_markdown
from perfgate.report import (
    Breakdown,
    HandlerResult,
    HandlerSides,
    HandlerStats,
    HandlerSummary,
    Report,
    Verdict,
    load_report,
)
from perfgate.stats import sketch

GOLDEN = Path(__file__).parents[1] / "render" / "golden"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
NO_CHROMIUM = "Chromium is not installed (scripts/install_test_tools.sh installs it)"

# --- Mermaid -----------------------------------------------------------------------------------


def test_mermaid_chart_quotes_labels_and_uses_microseconds():
    chart = mermaid_p95_chart(
        [
            Bar('GET /say/"hi"`\nnow', 5_400, 5_650),
            Bar("POST /checkout", 280_000, 372_000),
            Bar("GET /new", None, 10_000),  # one side only: not charted
        ]
    )
    assert chart is not None
    lines = chart.splitlines()
    assert lines[0] == "```mermaid" and lines[-1] == "```"
    assert lines[1] == "xychart-beta horizontal"
    assert lines[3] == '    x-axis ["GET /say/\'hi\'\' now", "POST /checkout"]'
    assert lines[4] == '    y-axis "p95 (µs)" 0 --> 500'
    assert lines[5] == "    bar [5.7, 372]" and lines[6] == "    line [5.4, 280]"
    assert chart.count("```") == 2  # no label can close the code block


def test_no_chart_without_a_handler_on_both_sides():
    assert mermaid_p95_chart([Bar("GET /new", None, 1)]) is None


def stats(p95: int) -> HandlerStats:
    return HandlerStats(count=600, p50_ns=p95 // 2, p95_ns=p95, p99_ns=p95 * 2)


def test_a_big_report_charts_only_the_handlers_not_passing():
    handlers = [
        HandlerResult(
            name=f"GET /h{i:03d}",
            target="svc",
            verdict=Verdict.REGRESSED if i % 40 == 7 else Verdict.PASS,
            baseline=stats(1000 + i),
            current=stats(1100 + i),
        )
        for i in range(120)
    ]
    md = render_markdown(Report(handlers=handlers))
    chart = md[md.index("```mermaid") :]
    assert "the 3 of 120 handlers not passing" in chart
    assert re.findall(r'"GET /h\d+"', chart) == ['"GET /h007"', '"GET /h047"', '"GET /h087"']
    assert MERMAID_MAX_BARS == 20


def test_the_regressed_handlers_details_are_safe_markdown():
    md = (GOLDEN / "explained.md").read_text()
    lines = md.splitlines()
    summary = next(line for line in lines if "GET /items/{id}" in line and "<summary>" in line)
    assert "<b>" not in summary and "&lt;b&gt;" in summary and "@\u200bteam" in summary
    row = next(line for line in lines if line.startswith("| `region render"))
    assert row.startswith("| `region render'<b>@team\\|x` |")  # a code span: literal text


# --- SVG and HTML ------------------------------------------------------------------------------


def test_quantile_axis_stretches_the_tail():
    assert tail_position(0) == 0 and tail_position(0.9) == pytest.approx(1)
    assert tail_position(0.99) == pytest.approx(2) and tail_position(1) == 2.5


def test_quantile_plot_is_log_scaled_only_for_a_wide_spread():
    narrow = quantile_svg([Series("a", "#000", list(range(1000, 1101)))], "narrow")
    wide = quantile_svg([Series("a", "#000", [1000 * 1.1**i for i in range(101)])], "wide")
    assert ">latency<" in narrow and "log scale" in wide
    assert "no distribution recorded" in quantile_svg([Series("a", "#000", [])], "none")


def sides_for(report: Report) -> list[HandlerSides]:
    """Sketches that look like latency distributions: a body and a tail, current slower."""

    def side(p95: int, overall: dict[str, int]) -> HandlerSummary:
        values = sorted(
            int(p95 * (0.3 + 0.7 * (i / 1000) ** 3 + (9 if i > 995 else 0))) for i in range(1000)
        )
        return HandlerSummary(
            count=1000,
            p50_ns=0,
            p95_ns=p95,
            p99_ns=0,
            sketch_ns=sketch(values),
            breakdown=Breakdown(overall=overall) if overall else None,
        )

    return [
        HandlerSides(
            h.target,
            h.name,
            side(h.baseline.p95_ns, {i.what: i.baseline_ns // 2 for i in h.explain})
            if h.baseline
            else None,
            side(h.current.p95_ns, {i.what: i.current_ns // 2 for i in h.explain})
            if h.current
            else None,
        )
        for h in report.handlers
    ]


@pytest.fixture
def report_html() -> str:
    report = load_report(GOLDEN / "explained.report.json")
    return render_html(report, sides_for(report))


def test_html_is_self_contained_and_escaped(report_html):
    assert report_html.startswith("<!DOCTYPE html>")
    assert "<script" not in report_html.lower() and "<link" not in report_html.lower()
    assert "@import" not in report_html and "url(" not in report_html
    urls = set(re.findall(r"https?://[^\"' )]+", report_html))
    assert urls == {"http://www.w3.org/2000/svg"}  # the SVG namespace, never fetched
    assert report_html.count("<svg") == 5  # p95 bars + one distribution per handler
    assert report_html.count("<polyline") == 8
    assert "region render`&lt;b&gt;@team|x" in report_html and "<b>" not in report_html
    assert "regression found" in report_html and 'class="badge regressed"' in report_html
    assert "+95.0µs" in report_html  # the contributors table, around the p95
    assert "<td class='num'>+47.5µs</td></tr>" in report_html  # and over all requests


# --- headless Chromium -------------------------------------------------------------------------


def decode_png(data: bytes) -> tuple[int, int, list[bytes], int]:
    """(width, height, rows of pixels, bytes per pixel) of an 8-bit RGB/RGBA PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, []
    width = height = bpp = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and interlace == 0 and ctype in (2, 6)
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat.append(body)
    raw, stride = zlib.decompress(b"".join(idat)), width * bpp
    prev, rows, i = bytearray(stride), [], 0
    for _ in range(height):
        kind, line = raw[i], bytearray(raw[i + 1 : i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if kind == 1:
                line[x] = (line[x] + a) & 255
            elif kind == 2:
                line[x] = (line[x] + b) & 255
            elif kind == 3:
                line[x] = (line[x] + ((a + b) >> 1)) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, rows, bpp


def colours(png: Path) -> set[bytes]:
    _, _, rows, bpp = decode_png(png.read_bytes())
    return {row[x : x + 3] for row in rows[::2] for x in range(0, len(row), bpp * 2)}


def chromium(*args: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp / 'profile'}",
        "--window-size=1200,2000",
    ]
    assert CHROMIUM is not None
    return subprocess.run(
        [CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=180, check=True
    )


@pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)
def test_the_html_report_renders_in_headless_chromium(report_html, tmp_path):
    page = tmp_path / "report.html"
    page.write_text(report_html, encoding="utf-8")
    blank = tmp_path / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body></body></html>")

    dom = chromium("--dump-dom", page.as_uri(), tmp=tmp_path).stdout
    assert dom.count("<svg") == 5 and "<polyline" in dom and "POST /checkout" in dom

    shot, blank_shot = tmp_path / "report.png", tmp_path / "blank.png"
    chromium(f"--screenshot={shot}", page.as_uri(), tmp=tmp_path)
    chromium(f"--screenshot={blank_shot}", blank.as_uri(), tmp=tmp_path)
    seen, blank_seen = colours(shot), colours(blank_shot)
    assert len(blank_seen) <= 2  # the blank page is one colour
    assert len(seen) > 50, len(seen)  # text, badges, lines, bars: not blank, not uniform
    for hex_colour in (BASE_COLOR, CURRENT_COLOR):  # both sides' curves and bars are drawn
        assert bytes.fromhex(hex_colour[1:]) in seen, hex_colour
