"""``perfgate baseline update``: measure every target and write (and commit) its baseline."""

from __future__ import annotations

import os

import click

from perfgate.commands.options import (
    config_option,
    load,
    progress,
    select_targets,
    target_option,
    warn,
)
from perfgate.errors import PerfgateError
from perfgate.render import escape


@click.group()
def baseline() -> None:
    """Measure and write baselines (baselines/<target>.json)."""


@baseline.command("update")
@config_option
@target_option
@click.option(
    "--runs",
    type=click.IntRange(1, 1000),
    help="Separate go test processes per target for the baseline (overrides the config's "
    "baseline_runs; default twice the runs per check: 30).",
)
@click.option("--dry-run", is_flag=True, help="Measure and print, write nothing.")
@click.option(
    "--commit", "do_commit", is_flag=True, help="Commit the baseline files (release branches only)."
)
@click.option("--push", is_flag=True, help="With --commit: push the commit to the branch's remote.")
@click.option("--force", is_flag=True, help="With --commit: allow any branch.")
def update(
    config_path: str | None,
    target_names: tuple[str, ...],
    runs: int | None,
    dry_run: bool,
    do_commit: bool,
    push: bool,
    force: bool,
) -> None:
    """Measure every target and write its baseline file.

    All targets are measured before anything is written: a failed measurement (build error,
    failing test, crashed trace) writes nothing. The files are JSON with stable key order, meant
    to be committed (baselines/embed.go embeds them into the Go build).
    """
    from perfgate.gate import refresh_baselines
    from perfgate.toolchain import find_go
    from perfgate.units import format_ns

    if push and not do_commit:
        raise PerfgateError("--push needs --commit")
    config, root = load(config_path)
    targets = select_targets(config, target_names, baseline_runs=runs)
    refresh = None
    if do_commit:
        from perfgate.git import check_refresh_allowed

        refresh = check_refresh_allowed(root, config.release_branches, force, push=push)
        for w in refresh.warnings:
            warn(w)
    go = find_go()
    results = refresh_baselines(root, targets, go, dict(os.environ), progress, dry_run)
    for path, b in results:
        click.echo(f"{'would write' if dry_run else 'wrote'} {escape.text(path)}")
        for name, h in b.handlers.items():  # task names are the test's: one harmless line each
            click.echo(f"  {escape.text(name)}: {h.count} samples, p95 {format_ns(h.p95_ns)}")
    if refresh is not None and not dry_run:
        from perfgate.git import commit_baselines, push_baseline_commit

        sha = commit_baselines(
            refresh, [p for p, _ in results], [t.name for t in targets], results[0][1].meta.commit
        )
        click.echo(f"committed {sha[:12]}" if sha else "baselines unchanged: nothing to commit")
        if sha and push:
            click.echo(push_baseline_commit(refresh).summary)
