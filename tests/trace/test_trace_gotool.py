"""The `go tool trace` fallback reader gives the same answer as the committed dumps."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_trace_differential import check_logs, check_regions, check_tasks
from tracefix import TRACES, expected, full_traces

from perfgate.trace import TraceError, read_trace
from perfgate.trace.dump import parse_lines, unquote


@pytest.fixture(autouse=True)
def scanner() -> str:
    """The go-tool reader does not use the native scanner: run these tests once."""
    return "unused"


# Every version, but only the smaller self-traced fixtures plus two full ones: each run of the
# tool costs about a second per 100 kB.
PICK = [p for p in full_traces() if "startstop" in p.name] + [
    TRACES / "go1.22.trace",
    TRACES / "go1.26.trace",
]


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.parametrize("trace", PICK, ids=[p.name for p in PICK])
def test_go_reader_matches_dump(trace: Path, system_go: str) -> None:
    exp = expected(trace)
    data = read_trace(trace, reader="go", go=system_go)
    assert data.reader == "go"
    assert any("go tool trace" in n for n in data.notes)
    assert not data.truncated
    # The system Go (1.26+) may nudge times by 1 ns differently from the version that wrote
    # the fixture (it yields its Sync events at other points), hence the same 1 ns tolerance.
    check_tasks(data, exp)
    check_regions(data, exp)
    check_logs(data, exp)


@pytest.mark.slow
@pytest.mark.e2e
def test_go_reader_on_cut_trace(system_go: str) -> None:
    data = read_trace(TRACES / "go1.26-cut70.trace", reader="go", go=system_go)
    assert data.truncated
    assert data.generations >= 1
    assert data.tasks


def test_go_reader_without_go(tmp_path: Path) -> None:
    with pytest.raises(TraceError, match="cannot run"):
        read_trace(TRACES / "go1.26.trace", reader="go", go=str(tmp_path / "missing-go"))


def test_dump_parser_reads_fields_by_key() -> None:
    lines = [
        'M=1 P=0 G=7 TaskBegin Time=100 ID=5 Parent=18446744073709551615 Type="GET /a\\"b"',
        "Stack=",
        "\tmain.f @ 0x1",
        'M=1 P=0 G=7 TaskEnd Time=150 Type="GET /a\\"b" Parent=18446744073709551615 ID=5',
        "M=-1 P=-1 G=-1 Sync Time=160 N=2",
        'M=2 P=1 G=-1 Log Time=170 Message="x\\ty" Category="k" Task=5',
    ]
    evs = list(parse_lines(lines))
    assert [e.kind for e in evs] == ["TaskBegin", "TaskEnd", "Sync", "Log"]
    assert evs[1].fields["ID"] == "5" and evs[1].time == 150 and evs[1].g == 7
    assert evs[3].g is None and evs[3].generation == 1
    assert unquote(evs[0].fields["Type"]) == 'GET /a"b'
    assert unquote('"\\xff\\u00e9\\n"') == "\ufffdé\n"
