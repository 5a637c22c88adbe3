"""``perfgate init``: scaffold perfgate.toml and baselines/embed.go in a Go module."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
def init() -> None:
    """Scaffold perfgate.toml and baselines/embed.go in this Go module (never overwrites)."""
    from perfgate.scaffold import scaffold

    for line in scaffold(Path.cwd()):
        click.echo(line)
