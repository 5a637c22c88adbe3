"""Configuration: the smallest file works, unknown keys and bad values are named."""

from pathlib import Path

import pytest

from perfgate.config import load_config, parse_duration_s, parse_percent
from perfgate.errors import PerfgateError

MINIMAL = """
[[targets]]
name = "ledger"
package = "."
run = "^TestPerfLedger$"
"""


def write(tmp_path: Path, text: str, name: str = "perfgate.toml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_smallest_valid_file(tmp_path):
    config, root = load_config(write(tmp_path, MINIMAL), tmp_path)
    (t,) = config.targets
    assert (t.name, t.package, t.run) == ("ledger", ".", "^TestPerfLedger$")
    assert t.baseline_path == "baselines/ledger.json"
    assert t.runs is None and t.threshold is None
    assert t.runs_for() == 15 and t.runs_for(same_machine=True) == 20  # mode defaults
    assert t.baseline_runs_for() == 30  # twice the runs per check
    assert t.model_copy(update={"runs": 2}).baseline_runs_for() == 4
    assert config.alpha_for() == 0.05 and config.alpha_for(same_machine=True) == 0.01
    assert t.threshold_for("GET /x") == 12.0  # committed-baseline default
    assert t.threshold_for("GET /x", same_machine=True) == 10.0  # A/B default
    assert config.release_branches == ["release/*", "release-*"]
    assert root == tmp_path.resolve()


def test_found_from_a_subdirectory_and_in_pyproject(tmp_path):
    (tmp_path / ".git").mkdir()
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    write(
        tmp_path,
        "[tool.perfgate]\n" + MINIMAL.replace("[[targets]]", "[[tool.perfgate.targets]]"),
        "pyproject.toml",
    )
    config, root = load_config(None, sub)
    assert config.targets[0].name == "ledger" and root == tmp_path.resolve()


def test_no_config_says_perfgate_init(tmp_path):
    (tmp_path / ".git").mkdir()
    with pytest.raises(PerfgateError) as err:
        load_config(None, tmp_path)
    assert "perfgate init" in str(err.value)


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        ("runz = 3", "unknown key \"targets[0] ('ledger').runz\""),
        ('threshold = "ten"', "threshold must be a percentage"),
        ("runs = 0", "runs"),
        ('timeout = "soon"', "timeout must be a duration"),
    ],
)
def test_bad_values_are_named(tmp_path, extra, needle):
    with pytest.raises(PerfgateError) as err:
        load_config(write(tmp_path, MINIMAL + extra + "\n"), tmp_path)
    assert needle in str(err.value)
    assert "perfgate.toml" in str(err.value)


def test_bad_regex(tmp_path):
    text = MINIMAL.replace('"^TestPerfLedger$"', '"("')
    with pytest.raises(PerfgateError, match="not a valid regular expression"):
        load_config(write(tmp_path, text), tmp_path)


def test_unknown_top_level_key_and_bad_toml(tmp_path):
    with pytest.raises(PerfgateError, match="unknown key 'colour'"):
        load_config(write(tmp_path, 'colour = "red"\n' + MINIMAL), tmp_path)
    with pytest.raises(PerfgateError, match="not valid TOML"):
        load_config(write(tmp_path, "[[targets]\n"), tmp_path)
    with pytest.raises(PerfgateError, match="missing key 'targets'"):
        load_config(write(tmp_path, "alpha = 0.05\n"), tmp_path)


def test_duplicate_target_and_select(tmp_path):
    with pytest.raises(PerfgateError, match="appears twice"):
        load_config(write(tmp_path, MINIMAL + MINIMAL), tmp_path)
    config, _ = load_config(write(tmp_path, MINIMAL), tmp_path)
    with pytest.raises(PerfgateError, match="unknown target 'nope'"):
        config.select(["nope"])


def test_parsers():
    assert (
        parse_percent("10%") == 10.0 and parse_percent(" 7.5 ") == 7.5 and parse_percent(20) == 20.0
    )
    for bad in ("-5%", "0%", "abc", True, None):
        with pytest.raises(ValueError):
            parse_percent(bad)
    assert (
        parse_duration_s("5m") == 300 and parse_duration_s("90s") == 90 and parse_duration_s(3) == 3
    )


def test_history_min_change(tmp_path):
    config, _ = load_config(write(tmp_path, MINIMAL), tmp_path)
    assert config.history_min_change == 3.0
    config, _ = load_config(write(tmp_path, 'history_min_change = "5%"\n' + MINIMAL), tmp_path)
    assert config.history_min_change == 5.0
    config, _ = load_config(write(tmp_path, 'history_min_change = "0%"\n' + MINIMAL), tmp_path)
    assert config.history_min_change == 0.0
    with pytest.raises(PerfgateError) as err:
        load_config(write(tmp_path, 'history_min_change = "some"\n' + MINIMAL), tmp_path)
    assert "history_min_change must be a percentage" in str(err.value)
