"""``perfgate history [TARGET]``: p95 per handler over main's recorded commits (or the baseline
file's versions), with change points; ``perfgate history record``: measure HEAD and record it.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import click

from perfgate.commands.deliver import write_output
from perfgate.commands.options import (
    config_option,
    load,
    markdown_out_option,
    progress,
    runs_option,
    select_targets,
    target_option,
    warn,
)
from perfgate.errors import PerfgateError

STORE_HELP = (
    "A directory as the history store (DIR/<target>/<commit>.json) instead of the "
    "perfgate-history branch."
)


class _ShowByDefault(click.Group):
    """``perfgate history [TARGET] [OPTIONS]`` is ``perfgate history show …``: anything that is
    not a subcommand's name goes to ``show``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("-h", "--help")):
            args = ["show", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_ShowByDefault)
def history() -> None:
    """p95 per handler over main's recorded commits, with change points.

    \b
      perfgate history [TARGET]      show it (the default subcommand: show)
      perfgate history record        measure HEAD and record it (on every merge to main)
    """


@history.command()
@config_option
@click.argument("target_name", required=False, metavar="[TARGET]")
@click.option("--store", "store_dir", type=click.Path(path_type=Path), help=STORE_HELP)
@click.option(
    "--branch",
    metavar="NAME",
    help="Order the records along this branch's first parents (default: the PR's base "
    "branch, else the remote's default branch, else main).",
)
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout (with change_points).")
@click.option("--markdown", is_flag=True, help="Markdown with a Mermaid chart on stdout.")
@markdown_out_option
@click.option(
    "--html-out",
    type=click.Path(dir_okay=False),
    help="Write a self-contained HTML page with a chart per handler.",
)
def show(
    config_path: str | None,
    target_name: str | None,
    store_dir: Path | None,
    branch: str | None,
    as_json: bool,
    markdown: bool,
    markdown_out: str | None,
    html_out: str | None,
) -> None:
    """p95 per handler over the recorded commits, oldest first, and each handler's change
    points (E-Divisive means, permutation test). Without recorded history: over the versions
    of the baseline file."""
    from perfgate.git import base_branch_name
    from perfgate.history import analyse, baseline_history
    from perfgate.history.analysis import settings_for
    from perfgate.history.store import BranchStore, DirectoryStore, Store, load_history
    from perfgate.render.history import (
        render_history_html,
        render_history_json,
        render_history_markdown,
        render_history_text,
    )

    config, root = load(config_path)
    targets = config.select([target_name] if target_name else [])
    store: Store
    if store_dir is not None:
        if not store_dir.is_dir():
            raise PerfgateError(f"no history store at {store_dir}: not a directory")
        store = DirectoryStore(store_dir)
    else:
        store = BranchStore(root, fetch=True, env=os.environ)
    order_branch = branch or ("main" if store_dir is not None else base_branch_name(root))
    settings = settings_for(config.drift_pct, config.history_min_change)
    histories = []
    for target in targets:
        found = load_history(store, root, target.name, order_branch)
        if not found.points and store_dir is None:  # nothing recorded: the baseline's versions
            found = replace(baseline_history(root, root / target.baseline_path), target=target.name)
        histories.append(analyse(found, settings))
    if as_json:
        click.echo(render_history_json(histories), nl=False)
    else:
        for found in histories:
            if len(histories) > 1:
                click.echo(f"## {found.target}" if markdown else f"{found.target}:")
            render = render_history_markdown if markdown else render_history_text
            click.echo(render(found), nl=False)
    if markdown_out:
        write_output(markdown_out, "\n".join(render_history_markdown(h) for h in histories))
    if html_out:
        write_output(html_out, render_history_html(histories))


@history.command()
@config_option
@target_option
@runs_option
@click.option("--store", "store_dir", type=click.Path(path_type=Path), help=STORE_HELP)
@click.option(
    "--push",
    is_flag=True,
    help="Push the history branch to the remote (retrying when another record was pushed "
    "meanwhile; never a force push).",
)
@click.option("--remote", default="origin", show_default=True, help="The remote for --push.")
@click.option(
    "--commit",
    metavar="SHA",
    help="With --store outside a git checkout: the commit the measurement is credited to.",
)
def record(
    config_path: str | None,
    target_names: tuple[str, ...],
    runs: int | None,
    store_dir: Path | None,
    push: bool,
    remote: str,
    commit: str | None,
) -> None:
    """Measure HEAD the way check does and record it in the history store.

    One record per target — per handler the pooled statistics and each run's p95, with the
    commit, its parent and date, the branch, the machine and the perfgate version — on the
    perfgate-history branch (committed without touching the working tree or the index), or
    under --store DIR. Everything is checked before measuring; nothing is written unless every
    target was measured.
    """
    from perfgate.history.record import head_commit, record_history
    from perfgate.history.store import BranchStore, DirectoryStore, Store
    from perfgate.toolchain import find_go

    if push and store_dir is not None:
        raise PerfgateError("--push publishes the history branch: it does not go with --store")
    if commit is not None and store_dir is None:
        raise PerfgateError(
            "--commit is for a directory store outside git: the history branch records HEAD",
            hint="drop --commit, or add --store DIR",
        )
    config, root = load(config_path)
    targets = select_targets(config, target_names, runs)
    env = dict(os.environ)
    store: Store = (
        DirectoryStore(store_dir)
        if store_dir is not None
        else BranchStore(root, remote=remote, push=push, env=env)
    )
    head, warnings = head_commit(root, env, commit)
    store.prepare()
    for w in warnings:
        warn(w)
    go = find_go()
    records, done = record_history(root, targets, go, env, store, head, progress)
    for r in records:
        handlers = ", ".join(f"{h} {s.p95_ns / 1e3:.1f}µs" for h, s in sorted(r.handlers.items()))
        click.echo(f"recorded {r.target} at {r.commit[:7]} ({r.runs} runs): {handlers}")
    click.echo(f"perfgate: {done}")
