"""How setup.py builds the C scanner: the stable-ABI switch (``LIMITED_API``) agrees with what
_scan.c compiles against, and the MSVC shim (_scan_compat.h, which stands in for GCC's
overflow builtins where cl has none) computes what the builtins compute, and a scanner built
with it reads every fixture exactly as the pure-Python one does.

MSVC itself is not on these machines: the shim is compiled with GCC/Clang here by defining
PERFGATE_EMULATE_OVERFLOW_BUILTINS; the release workflow builds the Windows wheel with it.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest
from pkgsupport import REPO

SCAN_C = REPO / "perfgate" / "trace" / "_scan.c"
COMPAT = REPO / "perfgate" / "trace" / "_scan_compat.h"
STRICT = [
    "-Werror=implicit-function-declaration",
    "-Werror=int-conversion",
    "-Werror=incompatible-pointer-types",
]


def compiler() -> list[str]:
    cc = (sysconfig.get_config_var("CC") or "cc").split()
    if shutil.which(cc[0]) is None:
        pytest.skip(f"no C compiler ({cc[0]}) here")
    include = Path(sysconfig.get_paths()["include"])
    if not (include / "Python.h").exists():
        pytest.skip("no Python headers here")
    return [*cc, f"-I{include}"]


def limited_api_setting() -> tuple[int, int] | None:
    """setup.py's ``LIMITED_API``, read without running setup.py."""
    tree = ast.parse((REPO / "setup.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.AnnAssign | ast.Assign):
            targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
            if any(isinstance(t, ast.Name) and t.id == "LIMITED_API" for t in targets):
                return ast.literal_eval(node.value)  # type: ignore[arg-type]
    raise AssertionError("setup.py defines no LIMITED_API")


def compiles_with_limited_api(version: tuple[int, int]) -> subprocess.CompletedProcess[str]:
    macro = f"-DPy_LIMITED_API=0x{version[0]:02X}{version[1]:02X}0000"
    return subprocess.run(
        [*compiler(), "-fsyntax-only", *STRICT, macro, str(SCAN_C)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_stable_abi_setting_matches_what_scan_c_compiles_with():
    setting = limited_api_setting()
    if setting is not None:
        if setting > sys.version_info[:2]:
            pytest.skip(f"this Python is older than the limited API {setting} setup.py targets")
        proc = compiles_with_limited_api(setting)
        assert proc.returncode == 0, (
            f"setup.py builds abi3 wheels (LIMITED_API = {setting}) but _scan.c does not "
            f"compile against that limited API:\n{proc.stderr}"
        )
        return
    for minor in (10, 11):
        if (3, minor) > sys.version_info[:2]:
            continue
        proc = compiles_with_limited_api((3, minor))
        assert proc.returncode != 0, (
            f"_scan.c now compiles against the Python 3.{minor} limited API: set "
            f"LIMITED_API = (3, {minor}) in setup.py to build one abi3 wheel per platform"
        )


CHECK_ARITHMETIC = r"""
#include <stdint.h>
#include <stdio.h>

static int real_add(int64_t a, int64_t b, int64_t *r) { return __builtin_add_overflow(a, b, r); }
static int real_mul(int64_t a, int64_t b, int64_t *r) { return __builtin_mul_overflow(a, b, r); }

#define PERFGATE_EMULATE_OVERFLOW_BUILTINS 1
#include "_scan_compat.h"

static int check(int64_t a, int64_t b) {
    int64_t r1 = 0, r2 = 0, bad = 0;
    if (real_add(a, b, &r1) != __builtin_add_overflow(a, b, &r2) || r1 != r2) bad++;
    if (real_mul(a, b, &r1) != __builtin_mul_overflow(a, b, &r2) || r1 != r2) bad++;
    if (bad) printf("mismatch: %lld %lld\n", (long long)a, (long long)b);
    return bad != 0;
}

int main(void) {
    const int64_t edge[] = {0, 1, -1, 2, -2, 3, -3, 7, 1000, 1000000007, 3037000499LL,
        3037000500LL, -3037000499LL, -3037000500LL, 4294967295LL, 4294967296LL, -4294967296LL,
        INT64_MAX, INT64_MIN, INT64_MAX - 1, INT64_MIN + 1, INT64_MAX / 2, INT64_MIN / 2,
        INT64_MAX / 2 + 1, INT64_MIN / 2 - 1, INT64_MAX / 3, INT64_MIN / 3, (INT64_MAX >> 2)};
    const int n = (int)(sizeof edge / sizeof edge[0]);
    int failures = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) failures += check(edge[i], edge[j]);
    uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        int64_t a = (int64_t)x >> (x % 63);
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        int64_t b = (int64_t)x >> (x % 63);
        failures += check(a, b);
    }
    printf("%d failures\n", failures);
    return failures != 0;
}
"""


def test_the_msvc_shim_computes_what_the_gcc_builtins_compute(tmp_path: Path):
    src = tmp_path / "check.c"
    src.write_text(CHECK_ARITHMETIC, encoding="utf-8")
    exe = tmp_path / "check"
    cc = compiler()
    build = subprocess.run(
        [*cc, "-O2", "-Wall", "-Werror", f"-I{COMPAT.parent}", str(src), "-o", str(exe)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert build.returncode == 0, build.stderr
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and run.stdout.strip() == "0 failures", run.stdout


READ_WITH_SHIM_BUILD = textwrap.dedent(
    """
    import importlib.util, os, sys
    spec = importlib.util.spec_from_file_location("perfgate.trace._scan", sys.argv[1])
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    sys.modules["perfgate.trace._scan"] = mod  # before perfgate.trace.scan imports it
    from perfgate.trace import read_trace, scan
    assert scan._scan is mod and scan.accelerated()
    for path in sys.argv[2:]:
        c = read_trace(path, reader="native", states=True)
        os.environ[scan.PURE_PYTHON_ENV] = "1"
        py = read_trace(path, reader="native", states=True)
        del os.environ[scan.PURE_PYTHON_ENV]
        assert (c.tasks, c.regions, c.logs, c.generations) == (
            py.tasks, py.regions, py.logs, py.generations), path
        assert (c.states.gc, c.states.stw) == (py.states.gc, py.states.stw), path
        assert c.tasks and all(
            c.task_breakdown(t) == py.task_breakdown(t) for t in c.complete_tasks), path
    print("read", len(sys.argv) - 2, "traces")
    """
)


@pytest.mark.slow
def test_a_scanner_built_with_the_msvc_shim_reads_like_the_python_one(tmp_path: Path):
    ext = tmp_path / ("_scan" + sysconfig.get_config_var("EXT_SUFFIX"))
    ldshared = (sysconfig.get_config_var("LDSHARED") or "").split()
    if sys.platform != "linux" or not ldshared:
        pytest.skip("builds the extension by hand with Linux's shared-library flags")
    cc = compiler()
    build = subprocess.run(
        [*cc, "-O2", "-fPIC", "-shared", *STRICT, "-DPERFGATE_EMULATE_OVERFLOW_BUILTINS",
         "-include", str(COMPAT), str(SCAN_C), "-o", str(ext)],
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr
    traces = REPO / "tests" / "fixtures" / "traces"
    picked = [traces / f"go1.{m}.trace" for m in (22, 23, 24, 25, 26, 27)]
    picked += [traces / "go1.26-runtime.trace", traces / "go1.26-cut70.trace"]
    run = subprocess.run(
        [sys.executable, "-c", READ_WITH_SHIM_BUILD, str(ext), *map(str, picked)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"read {len(picked)} traces" in run.stdout
