"""Build the optional C accelerator of the native trace reader (perfgate.trace._scan).

All metadata lives in pyproject.toml; this file only declares the extension. ``optional=True``
lets installation go on without a C compiler: the reader then uses its pure-Python scanner.
The release workflow sets PERFGATE_REQUIRE_EXTENSION=1 so that a wheel without it cannot ship.

Stable ABI: when ``LIMITED_API`` names a CPython version, _scan.c is compiled against that
version's limited C API (``Py_LIMITED_API``) on that CPython and later ones, and the wheel is
tagged ``cpXY-abi3``: one wheel for every later CPython. Older CPythons and free-threaded builds
(which have no limited API before 3.15) get per-version wheels. ``None`` while _scan.c uses
calls outside the limited API (tests/packaging/test_abi3.py checks which it is).
"""

from __future__ import annotations

import os
import sys
import sysconfig

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

LIMITED_API: tuple[int, int] | None = None
COMPAT_HEADER = "perfgate/trace/_scan_compat.h"


def abi3() -> bool:
    """Whether this build targets the stable ABI (see LIMITED_API)."""
    return (
        LIMITED_API is not None
        and sys.implementation.name == "cpython"
        and sys.version_info[:2] >= LIMITED_API
        and not sysconfig.get_config_var("Py_GIL_DISABLED")
    )


STABLE = abi3()
macros = []
options = {}
if STABLE:
    assert LIMITED_API is not None
    major, minor = LIMITED_API
    macros.append(("Py_LIMITED_API", f"0x{major:02X}{minor:02X}0000"))
    options["bdist_wheel"] = {"py_limited_api": f"cp{major}{minor}"}


class BuildExt(build_ext):
    """Compiler-specific flags: -O2 for GCC/Clang; for MSVC /O2 and a forced include of
    _scan_compat.h, which provides the GCC builtins _scan.c uses."""

    def build_extensions(self) -> None:
        msvc = self.compiler.compiler_type == "msvc"
        header = os.path.join(os.path.dirname(os.path.abspath(__file__)), COMPAT_HEADER)
        for ext in self.extensions:
            ext.extra_compile_args = ["/O2", f"/FI{header}"] if msvc else ["-O2"]
        super().build_extensions()


setup(
    cmdclass={"build_ext": BuildExt},
    ext_modules=[
        Extension(
            "perfgate.trace._scan",
            sources=["perfgate/trace/_scan.c"],
            depends=[COMPAT_HEADER],
            define_macros=macros,
            py_limited_api=STABLE,
            optional=os.environ.get("PERFGATE_REQUIRE_EXTENSION", "") in ("", "0"),
        )
    ],
    options=options,
)
