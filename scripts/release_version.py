"""The release's version, checked against the tag being released.

    python scripts/release_version.py [--tag vX.Y.Z] [--github-output FILE]

The version lives in one place, ``perfgate/__init__.py``'s ``__version__`` (read here without
importing perfgate). A release tag must be ``v`` + that version; the version must be X.Y.Z or a
pre-release X.Y.ZaN / bN / rcN. The tag defaults to the one GitHub Actions is running for
(GITHUB_REF_TYPE=tag, GITHUB_REF_NAME); without one (a manual run) only the version is checked.
Prints, and with --github-output appends for later jobs: version, major (the major tag, "v1"),
prerelease (true/false). Exit 1 with a message when the tag and the version disagree.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import sys
from pathlib import Path

INIT = Path(__file__).resolve().parents[1] / "perfgate" / "__init__.py"
VERSION_RE = re.compile(r"(\d+)\.(\d+)\.(\d+)((?:a|b|rc)\d+)?")


def package_version(init: Path = INIT) -> str:
    for node in ast.parse(init.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__version__" for t in node.targets
        ):
            value = ast.literal_eval(node.value)
            if isinstance(value, str):
                return value
    raise SystemExit(f"release: no __version__ = '...' in {init}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tag", help="the tag being released (default: from GitHub Actions)")
    parser.add_argument("--github-output", help="append the outputs to this file")
    opts = parser.parse_args()

    version = package_version()
    m = VERSION_RE.fullmatch(version)
    if m is None:
        print(f"release: perfgate.__version__ {version!r} is not X.Y.Z[aN|bN|rcN]", file=sys.stderr)
        return 1
    tag = opts.tag
    if tag is None and os.environ.get("GITHUB_REF_TYPE") == "tag":
        tag = os.environ.get("GITHUB_REF_NAME")
    if tag is not None and tag != f"v{version}":
        print(
            f"release: the tag is {tag} but perfgate.__version__ is {version}: set "
            f"__version__ in perfgate/__init__.py to {tag.removeprefix('v')} and tag that "
            f"commit, or tag v{version}",
            file=sys.stderr,
        )
        return 1
    outputs = {
        "version": version,
        "major": f"v{m.group(1)}",
        "prerelease": "true" if m.group(4) else "false",
    }
    text = "".join(f"{k}={v}\n" for k, v in outputs.items())
    print(text, end="")
    if opts.github_output:
        with open(opts.github_output, "a", encoding="utf-8") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
