"""docs/ci-systems.md: its complete GitLab CI and Buildkite configurations validate against the
systems' JSON schemas (check-jsonschema's vendored copies), and its scripts pass ShellCheck."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "ci-systems.md"


def blocks(lang: str) -> list[str]:
    """The doc's fenced code blocks in one language, dedented."""
    text = DOC.read_text(encoding="utf-8")
    found = re.findall(rf"^( *)```{lang}\n(.*?)^\1```", text, re.S | re.M)
    return ["\n".join(line[len(indent) :] for line in body.splitlines()) for indent, body in found]


def complete(first_key: str) -> str:
    (block,) = [b for b in blocks("yaml") if b.startswith(first_key)]
    return block


@pytest.mark.parametrize(
    ("schema", "first_key", "name"),
    [
        ("vendor.gitlab-ci", "perfgate:\n", ".gitlab-ci.yml"),
        ("vendor.buildkite", "steps:\n", "pipeline.yml"),
    ],
)
def test_configurations_validate(tmp_path, schema, first_key, name):
    pytest.importorskip("check_jsonschema", reason="check-jsonschema is in the test extra")
    path = tmp_path / name
    path.write_text(complete(first_key), encoding="utf-8")
    cmd = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_command_asks_for_all_three_reports():
    # One line per command: join shell continuations and Groovy's 'a ' + 'b'.
    joined = [
        re.sub(r"'\s*\+\s*\n\s*'", "", re.sub(r"\\\n\s*", " ", b))
        for b in blocks("yaml") + blocks("sh") + blocks("groovy")
    ]
    commands = [line for b in joined for line in re.findall(r"perfgate check[^\n]*", b)]
    assert len(commands) >= 5, commands
    for c in commands:
        for option in ("--json-out", "--markdown-out", "--junit-out"):
            assert option in c, c


def test_scripts_pass_shellcheck(tmp_path):
    exe = shutil.which("shellcheck") or shutil.which("shellcheck", path=str(REPO / ".venv" / "bin"))
    if exe is None:
        pytest.skip("shellcheck is not installed (scripts/install_lint_tools.sh installs it)")
    yaml = pytest.importorskip("ruamel.yaml", reason="ruamel.yaml comes with check-jsonschema")
    gitlab = yaml.YAML(typ="safe").load(complete("perfgate:\n"))["perfgate"]
    buildkite = yaml.YAML(typ="safe").load(complete("steps:\n"))["steps"][0]["command"]
    scripts = {
        "gitlab-script.sh": "\n".join(gitlab["script"]),
        "gitlab-after.sh": "\n".join(gitlab["after_script"]),
        # Buildkite's $$ is a literal $ once the pipeline is uploaded.
        "buildkite.sh": buildkite.replace("$$", "$"),
    }
    for name, script in scripts.items():
        path = tmp_path / name
        path.write_text("#!/bin/bash\n" + script + "\n", encoding="utf-8")
        proc = subprocess.run([exe, str(path)], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, name + "\n" + proc.stdout + proc.stderr
