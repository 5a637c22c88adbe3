"""Build the optional C accelerator of the native trace reader (perfgate.trace._scan).

All metadata lives in pyproject.toml; this file only declares the extension. ``optional=True``
lets installation go on without a C compiler: the reader then uses its pure-Python scanner.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "perfgate.trace._scan",
            sources=["perfgate/trace/_scan.c"],
            extra_compile_args=["-O2"],
            optional=True,
        )
    ]
)
