"""``perfgate init``: scaffold perfgate.toml and baselines/embed.go in a Go module."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option(
    "--perf-test",
    "perf_test_package",
    metavar="PKG",
    help="Also write PKG/perf_test.go (e.g. ./cmd/api): a perf test using the perftest package, "
    "one request per route found in PKG's Handle/HandleFunc calls, ready to fill in.",
)
def init(perf_test_package: str | None) -> None:
    """Scaffold perfgate.toml and baselines/embed.go in this Go module (never overwrites).

    With --perf-test PKG, first write a perf-test skeleton into PKG, so that perfgate.toml
    picks it up as the target's test.
    """
    from perfgate.scaffold import perf_test_skeleton, scaffold

    if perf_test_package:
        for line in perf_test_skeleton(Path.cwd(), perf_test_package):
            click.echo(line)
    for line in scaffold(Path.cwd()):
        click.echo(line)
