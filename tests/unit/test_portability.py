"""perfgate imports and measures CPU time where the ``resource`` module does not exist (Windows).

The check runs in a fresh interpreter with ``resource`` made unimportable
(``sys.modules["resource"] = None``), so it holds on the Linux machines the suite runs on too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import json, pkgutil, importlib, subprocess, sys
    sys.modules["resource"] = None  # import resource -> ImportError, as on Windows
    import perfgate
    names = sorted(
        m.name for m in pkgutil.walk_packages(perfgate.__path__, "perfgate.")
        if not m.name.endswith("__main__")
    )
    for name in names:
        importlib.import_module(name)
    from perfgate import toolchain
    before = toolchain.children_cpu_seconds()
    # A child that burns about 0.2 s of CPU; os.times() counts it once it has been waited for.
    subprocess.run(
        [sys.executable, "-c",
         "import time\\nt = time.process_time()\\nwhile time.process_time() - t < 0.2: pass"],
        check=True,
    )
    after = toolchain.children_cpu_seconds()
    print(json.dumps({"modules": names, "resource": toolchain.resource is None,
                      "cpu": after - before}))
    """
)


def test_every_module_imports_without_resource_and_cpu_time_falls_back_to_os_times():
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert "perfgate.toolchain" in out["modules"] and "perfgate.cli" in out["modules"]
    assert len(out["modules"]) > 30
    assert out["resource"] is True  # the fallback path was taken
    if os.name == "nt":
        assert out["cpu"] == 0.0  # Windows' os.times() has no children's times: unknown
    else:
        assert 0.1 < out["cpu"] < 5.0  # the child's CPU time, from os.times()


def test_with_resource_the_children_cpu_time_comes_from_getrusage():
    resource = pytest.importorskip("resource", reason="Unix only")

    from perfgate import toolchain

    assert toolchain.resource is resource
    before = toolchain.children_cpu_seconds()
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.2: pass",
        ],
        check=True,
    )
    assert 0.1 < toolchain.children_cpu_seconds() - before < 5.0
