"""Baseline files: stable JSON, atomic writes, clear errors that name the file and field."""

import json
import re

import pytest

from perfgate.baseline import (
    BASELINE_SCHEMA_VERSION,
    Baseline,
    Machine,
    load_baseline,
    parse_baseline_p95,
    write_atomically,
)
from perfgate.errors import PerfgateError
from perfgate.report import HandlerSummary


def sample() -> Baseline:
    h = HandlerSummary(
        count=600,
        p50_ns=10,
        p95_ns=20,
        p99_ns=30,
        run_p95_ns=[19, 21],
        run_counts=[300, 300],
        run_le_p95=[287, 283],
        p95_log_density=0.21,
    )
    return Baseline(
        schema_version=BASELINE_SCHEMA_VERSION, target="svc", handlers={"GET /b": h, "GET /a": h}
    )


def test_round_trip_with_sorted_handlers(tmp_path):
    path = tmp_path / "baselines" / "svc.json"
    write_atomically(path, sample().to_json())
    text = path.read_text()
    assert text.index('"GET /a"') < text.index('"GET /b"')
    assert text.endswith("}\n") and '\n  "handlers"' in text
    loaded = load_baseline(path, "svc")
    assert loaded.handlers["GET /a"].run_p95_ns == [19, 21]
    assert list(tmp_path.joinpath("baselines").iterdir()) == [path]  # no temp file left


def test_missing_baseline_says_baseline_update(tmp_path):
    with pytest.raises(PerfgateError, match="perfgate baseline update"):
        load_baseline(tmp_path / "nope.json", "svc")


def test_corrupt_and_invalid_baselines_name_file_and_field(tmp_path):
    p = tmp_path / "svc.json"
    p.write_text("{not json")
    with pytest.raises(PerfgateError, match=r"svc\.json is not valid JSON \(line 1"):
        load_baseline(p, "svc")
    data = json.loads(sample().to_json())
    data["handlers"]["GET /a"]["p95_ns"] = "fast"
    p.write_text(json.dumps(data))
    with pytest.raises(PerfgateError, match=r"field 'handlers\.GET /a\.p95_ns'"):
        load_baseline(p, "svc")
    data["schema_version"] = 99
    p.write_text(json.dumps(data))
    with pytest.raises(PerfgateError, match="schema_version 99"):
        load_baseline(p, "svc")


def test_a_baseline_from_an_older_perfgate_says_refresh_it(tmp_path):
    p = tmp_path / "svc.json"
    data = json.loads(sample().to_json())
    data["schema_version"] = 1
    p.write_text(json.dumps(data))
    with pytest.raises(PerfgateError, match="older perfgate") as err:
        load_baseline(p, "svc")
    assert "perfgate baseline update" in (err.value.hint or "")


def test_baseline_of_another_target(tmp_path):
    p = tmp_path / "svc.json"
    p.write_text(sample().to_json())
    with pytest.raises(PerfgateError, match="belongs to target 'svc'"):
        load_baseline(p, "other")


def test_machine_differences():
    a = Machine(cpu="Xeon", gomaxprocs=2, goos="linux", goarch="amd64", go_version="go1.26.8")
    b = Machine(cpu="Xeon", gomaxprocs=4, goos="linux", goarch="amd64", go_version="go1.22.10")
    assert a.differences(b) == ["GOMAXPROCS 2 → 4", "Go go1.26.8 → go1.22.10"]
    assert a.differences(Machine()) == []


# --- old versions, for perfgate history: the p95s alone ---------------------------------------


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"[]", "not a JSON object"),
        (b'{"schema_version": 3, "handlers": {}}', "schema_version 3"),
        (b'{"schema_version": 1}', "no handlers"),
        (b'{"schema_version": 1, "handlers": {"GET /": {"p95_ns": "fast"}}}', "'GET /'"),
        (b"\xff\xfe", "not JSON"),
    ],
)
def test_parse_rejects_what_is_not_a_baseline(raw, reason):
    with pytest.raises(ValueError, match=re.escape(reason)):
        parse_baseline_p95(raw)


def test_parse_ignores_other_fields():
    raw = b'{"schema_version": 1, "target": "t", "meta": {"x": 1}, "handlers": {"GET /": {"p95_ns": 7, "count": 3}}}'  # noqa: E501
    assert parse_baseline_p95(raw) == {"GET /": 7}
