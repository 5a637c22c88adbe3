"""What the Action's install step needs to know about the perfgate it is running from.

    python scripts/action_source_key.py        (run by action.yml with GITHUB_ACTION_PATH's copy)

Prints ``version=`` (``perfgate.__version__``, read without importing it), ``source=`` (a digest
of everything that goes into the wheel: pyproject.toml, setup.py and the perfgate package's
files) and ``wheelhouse=`` (where the wheels are kept: $RUNNER_TEMP/perfgate-wheelhouse), as
``name=value`` lines for $GITHUB_OUTPUT. The cache of built wheels is keyed on version, source,
OS, architecture and Python, so ``uses: perfgate/perfgate@v1.2.3`` always installs a wheel built
from exactly that checkout, and a branch or commit ref never reuses another's wheel.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from release_version import package_version  # noqa: E402

SKIP_DIRS = {"__pycache__"}
SKIP_SUFFIXES = (".pyc", ".pyo", ".so", ".pyd")


def source_digest(root: Path = ROOT) -> str:
    digest = hashlib.sha256()
    files = [root / "pyproject.toml", root / "setup.py"]
    files += sorted(
        p
        for p in (root / "perfgate").rglob("*")
        if p.is_file() and not SKIP_DIRS & set(p.parts) and not p.name.endswith(SKIP_SUFFIXES)
    )
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def main() -> None:
    temp = os.environ.get("RUNNER_TEMP") or tempfile.gettempdir()
    print(f"version={package_version(ROOT / 'perfgate' / '__init__.py')}")
    print(f"source={source_digest()}")
    print(f"wheelhouse={Path(temp) / 'perfgate-wheelhouse'}")


if __name__ == "__main__":
    main()
