"""``perfgate check``: measure each target, judge its handlers, deliver the report."""

from __future__ import annotations

import os
from pathlib import Path

import click

from perfgate.commands.deliver import deliver
from perfgate.commands.options import (
    comment_options,
    config_file,
    config_option,
    json_out_option,
    junit_out_option,
    load,
    markdown_out_option,
    progress,
    runs_option,
    select_targets,
    target_option,
    threshold_option,
)
from perfgate.config import Config, gate_paths
from perfgate.errors import PerfgateError
from perfgate.github.sticky import CommentWhen
from perfgate.report import MAX_TEXT, Report


@click.command()
@config_option
@target_option
@runs_option
@threshold_option
@json_out_option
@markdown_out_option
@junit_out_option
@click.option(
    "--html-out",
    type=click.Path(dir_okay=False),
    help="Write a self-contained HTML report here (distributions, contributors).",
)
@comment_options
@click.option(
    "--against",
    "against",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[REF]",
    help="Measure REF too (in a git worktree), alternating runs, and decide on these "
    "same-machine numbers. Without a value: the merge-base with the PR's base branch (in a "
    "pull_request job: with the event's base commit).",
)
@click.option(
    "--warning",
    "warnings",
    multiple=True,
    metavar="TEXT",
    help="Add TEXT to the report's warnings (shown in the comment and the summary). The Action "
    "says so when it could not measure the PR's base and judged against the committed baseline.",
)
@click.option(
    "--history/--no-history",
    default=True,
    help="Add main's recent change points and drifts from the history store (the "
    "perfgate-history branch, fetched when the remote has it) to the report. Default: on; "
    "skipped when there is no store.",
)
@click.option(
    "--history-store",
    type=click.Path(file_okay=False, path_type=Path),
    help="A directory history store (see 'perfgate history record --store').",
)
@click.pass_context
def check(
    ctx: click.Context,
    config_path: str | None,
    target_names: tuple[str, ...],
    runs: int | None,
    threshold: float | None,
    json_out: str | None,
    markdown_out: str | None,
    junit_out: str | None,
    html_out: str | None,
    comment: bool | None,
    dry_run: bool,
    comment_key: str | None,
    comment_when: CommentWhen,
    against: str | None,
    warnings: tuple[str, ...],
    history: bool,
    history_store: Path | None,
) -> None:
    """Measure each target and compare its handlers' p95 with the baseline.

    \b
    The number judged is the one shown: each handler's p95 over every request of every run,
    and its change with a confidence interval ("+28% [+19, +37]") from the spread between
    runs (runs are the unit: with --against, pairs of runs made back to back). A handler
    regresses when its p95 rose by more than the threshold and the interval lies above zero.
    It passes when a threshold-sized rise is unlikely. A rise beyond the threshold within noise,
    or an interval too wide to tell, is inconclusive (exit 3): never a pass. Against a committed
    baseline, a shift all handlers share (another machine) is taken out first.

    \b
    --runs is the most runs per side: the check judges after a third, two thirds and all of
    them, and stops as soon as every handler is decided. Each change is explained by the
    handler's regions and what its goroutines did. When other processes had the machine, the
    handlers that moved are not judged (exit 3).

    Exit 0 pass, 1 regression, 2 could not decide, 3 inconclusive.
    """
    from perfgate.gate import run_check
    from perfgate.toolchain import find_go

    if any(len(w) > MAX_TEXT for w in warnings):
        raise PerfgateError(f"--warning takes at most {MAX_TEXT} characters")

    config, root = load(config_path)
    targets = select_targets(config, target_names, runs, threshold)
    go = find_go()
    event_base = None
    if against == "":  # the merge-base: with the pull_request event's base commit, if any
        from perfgate.github.context import load_context

        event_base = load_context(os.environ).base_sha
    checked = run_check(config, root, targets, go, dict(os.environ), progress, against, event_base)
    report = with_gate_changes(checked.report, config, root, config_file(config_path))
    if history:
        report = with_trends(report, root, [t.name for t in targets], history_store, config)
    if warnings:
        report = report.model_copy(update={"warnings": [*warnings, *report.warnings]})
    deliver(
        report,
        json_out=json_out,
        markdown_out=markdown_out,
        junit_out=junit_out,
        html_out=html_out,
        sides=checked.sides,
        comment=comment,
        dry_run=dry_run,
        comment_key=comment_key,
        comment_when=comment_when,
    )
    ctx.exit(report.exit_code)


def with_gate_changes(report: Report, config: Config, root: Path, file: Path | None) -> Report:
    """On a pull request (the event names its base), ``report`` with the gate's own files that
    the pull request changes (:func:`perfgate.config.gate_paths`), compared with the base; a
    warning when the clone cannot tell. Elsewhere ``report`` as it is."""
    from perfgate.git import changed_since_base
    from perfgate.github.context import load_context

    pr = load_context(os.environ)
    if not (pr.base_sha or pr.base_ref):
        return report
    paths = gate_paths(config, file or root / "perfgate.toml", root)
    changes = changed_since_base(root, paths, base_sha=pr.base_sha, base_ref=pr.base_ref)
    if changes.problem:
        warning = (
            "could not tell whether this pull request changes baselines/ or the perfgate "
            f"config: {changes.problem}"
        )
        return report.model_copy(update={"warnings": [*report.warnings, warning]})
    return report.model_copy(update={"gate_files_changed": list(changes.files)})


def with_trends(
    report: Report,
    root: Path,
    targets: list[str],
    store_dir: Path | None,
    config: Config | None = None,
) -> Report:
    """The report with main's recent trends for ``targets``; as it was when there is no
    history store, or it cannot be read (the gate never depends on it). ``config``: the
    analysis's settings (``drift``, ``history_min_change``; default: theirs)."""
    from perfgate.history.analysis import Settings, settings_for
    from perfgate.history.trends import check_trends

    settings = settings_for(config.drift_pct, config.history_min_change) if config else Settings()
    try:
        trends = check_trends(root, targets, dict(os.environ), store_dir, settings)
    except PerfgateError:
        return report
    return report.model_copy(update={"trends": trends}) if trends else report
