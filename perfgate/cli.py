"""perfgate's command line: parse options, call the stages, map the outcome to an exit code.

Exit codes: 0 pass, 1 a regression, 2 the user's or the environment's problem (bad input, broken
build, failed test, no data). Every PerfgateError becomes a message and exit 2 here, in one place.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from perfgate import __version__
from perfgate.baseline import write_output
from perfgate.config import Config, Target, load_config, parse_percent
from perfgate.errors import PerfgateError
from perfgate.github.cli import comment_options, publish_and_warn


class PerfgateGroup(click.Group):
    """A click group that turns PerfgateError into a clear message and exit code 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PerfgateError as exc:
            click.echo(f"perfgate: error: {exc.message}", err=True)
            if exc.hint:
                click.echo(f"perfgate: {exc.hint}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("perfgate: interrupted", err=True)
            ctx.exit(130)


def progress(message: str) -> None:
    """Progress lines go to stderr so stdout stays clean for tables and JSON."""
    click.echo(f"perfgate: {message}", err=True)


def _percent(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return parse_percent(value, "--threshold")
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _load(config_path: str | None) -> tuple[Config, Path]:
    return load_config(Path(config_path) if config_path else None, Path.cwd())


def _targets(
    config: Config,
    names: tuple[str, ...],
    runs: int | None,
    threshold: float | None,
    baseline_runs: int | None = None,
):
    from perfgate.gate import Overrides

    overrides = Overrides(runs=runs, threshold=threshold, baseline_runs=baseline_runs)
    return [overrides.apply(t) for t in config.select(list(names))]


config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="perfgate.toml (or pyproject.toml with [tool.perfgate]). "
    "Default: searched from the current directory up to the repository root.",
)
target_option = click.option(
    "--target",
    "target_names",
    multiple=True,
    metavar="NAME",
    help="Only this target (repeatable). Default: all targets in the config.",
)
runs_option = click.option(
    "--runs",
    type=click.IntRange(1, 1000),
    help="Separate go test processes per target and side (overrides the config; default 15, "
    "20 pairs with --against).",
)


@click.group(cls=PerfgateGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="perfgate")
def main() -> None:
    """A performance gate for Go services.

    perfgate runs your Go perf tests under the execution tracer (go test -trace), reads every
    request's latency from runtime/trace tasks (one task per handler call, named after the
    route), and compares each handler's p95 with a baseline committed in baselines/.

    \b
    Typical use:
      perfgate init                 scaffold perfgate.toml and baselines/embed.go
      perfgate baseline update      measure and write baselines/<target>.json
      perfgate check                measure again and gate on p95 (exit 0 pass, 1 regression)
      perfgate report TRACE...      latency table straight from trace files

    Exit codes: 0 pass, 1 regression, 2 bad input or environment (never a silent pass),
    3 inconclusive (a handler moved while the machine was busy: not judged, never a pass).
    """


@main.command()
@click.argument("traces", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option(
    "--reader",
    type=click.Choice(["auto", "native", "go"]),
    default="auto",
    show_default=True,
    help="native: perfgate's own decoder; go: 'go tool trace' text export; "
    "auto: native, falling back to go for trace versions perfgate does not know.",
)
@click.option(
    "--states",
    is_flag=True,
    help="Also read goroutine states: mean time per request running, waiting for a CPU "
    "(scheduler wait), blocked (by reason) and in syscalls, per handler.",
)
def report(traces: tuple[str, ...], as_json: bool, reader: str, states: bool) -> None:
    """Per-handler latency (count, p50/p90/p95/p99, max, mean) from trace files.

    Each runtime/trace task type is a handler; incomplete tasks (no begin or no end in the
    trace) are counted and left out, as 'go tool trace' does. Several traces are pooled.
    Percentiles are nearest-rank: the ⌈p·n⌉-th smallest duration.
    """
    from perfgate.trace import read_trace, scanner_note
    from perfgate.trace_report import runtime_means, summarize, to_json, to_text

    datas = [
        read_trace(path, reader=reader, states=states)  # type: ignore[arg-type]
        for path in traces
    ]
    if (note := scanner_note()) and any(d.reader == "native" for d in datas):
        click.echo(f"perfgate: note: {note}", err=True)
    stats = summarize(datas)
    means = runtime_means(datas) if states else None
    if not stats and not as_json:
        click.echo("no completed runtime/trace tasks in the trace", err=True)
    click.echo(to_json(datas, stats, means) if as_json else to_text(datas, stats, means), nl=False)


@main.command()
@config_option
@target_option
@runs_option
@click.option(
    "--threshold",
    callback=_percent,
    metavar="PCT",
    help='Fail only when p95 rose by more than this, e.g. "15%" '
    "(overrides the config; default 12%, 10% with --against).",
)
@click.option("--json-out", type=click.Path(dir_okay=False), help="Write the JSON report here.")
@click.option("--markdown-out", type=click.Path(dir_okay=False), help="Write Markdown here.")
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
    "same-machine numbers. Without a value: the merge-base with the PR's base branch.",
)
def check(
    config_path: str | None,
    target_names: tuple[str, ...],
    runs: int | None,
    threshold: float | None,
    json_out: str | None,
    markdown_out: str | None,
    html_out: str | None,
    comment: bool | None,
    dry_run: bool,
    comment_key: str | None,
    comment_when: str,
    against: str | None,
) -> None:
    """Measure each target and compare its handlers' p95 with the baseline.

    A handler regresses only when its p95 rose by more than the threshold AND its per-run p95s
    are higher than the baseline's beyond run-to-run noise (one-sided Mann-Whitney on per-run
    p95s, Holm-adjusted across handlers; with --against, a signed-rank test on pairs of runs
    made back to back). Each handler's change is explained by its regions and by what its
    goroutines did (running, waiting for a CPU, blocked, syscall). When the trace shows the
    machine was busy, handlers that moved are not judged.

    Exit 0 pass, 1 regression, 2 could not decide, 3 inconclusive (busy machine).
    """
    from perfgate.gate import run_check
    from perfgate.render import render_markdown, render_text
    from perfgate.toolchain import find_go

    config, root = _load(config_path)
    targets = _targets(config, target_names, runs, threshold)
    go = find_go()
    env = dict(os.environ)
    if against is not None:
        from perfgate.ab import run_against

        checked = run_against(config, root, targets, go, env, against, progress)
    else:
        checked = run_check(config, root, targets, go, env, progress)
    result = checked.report
    click.echo(render_text(result), nl=False)
    write_output(json_out, result.to_json())
    write_output(markdown_out, render_markdown(result))
    if html_out:
        from perfgate.html_report import render_html

        write_output(html_out, render_html(result, checked.sides))
    _publish(result, json_out, comment, dry_run, comment_key, comment_when)
    sys.exit(result.exit_code)


def _publish(
    result: Any,
    report_path: str | None,
    comment: bool | None,
    dry_run: bool,
    key: str | None,
    when: str = "always",
) -> None:
    """Hand the report to GitHub (comment, summary, outputs, annotations) when running there."""
    publish_and_warn(result, report_path, comment, dry_run, key, when)


@main.group()
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
def baseline_update(
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
    from perfgate.render import format_ns
    from perfgate.toolchain import find_go

    if push and not do_commit:
        raise PerfgateError("--push needs --commit")
    config, root = _load(config_path)
    targets = _targets(config, target_names, None, None, baseline_runs=runs)
    refresh = None
    if do_commit:
        from perfgate.gitops import check_refresh_allowed

        refresh = check_refresh_allowed(root, config.release_branches, force, push=push)
        for w in refresh.warnings:
            click.echo(f"perfgate: warning: {w}", err=True)
    go = find_go()
    results = refresh_baselines(root, targets, go, dict(os.environ), progress, dry_run)
    for path, b in results:
        click.echo(f"{'would write' if dry_run else 'wrote'} {path}")
        for name, h in b.handlers.items():
            click.echo(f"  {name}: {h.count} samples, p95 {format_ns(h.p95_ns)}")
    if refresh is not None and not dry_run:
        from perfgate.gitops import commit_baselines, push_baseline_commit

        sha = commit_baselines(
            refresh, [p for p, _ in results], [t.name for t in targets], results[0][1].meta.commit
        )
        click.echo(f"committed {sha[:12]}" if sha else "baselines unchanged: nothing to commit")
        if sha and push:
            click.echo(push_baseline_commit(refresh).summary)


@main.command()
def init() -> None:
    """Scaffold perfgate.toml and baselines/embed.go in this Go module (never overwrites)."""
    from perfgate.scaffold import scaffold

    for line in scaffold(Path.cwd()):
        click.echo(line)


@main.command()
@config_option
@click.argument("target_name", required=False, metavar="[TARGET]")
@click.option("--markdown", is_flag=True, help="Markdown with a Mermaid chart instead of a table.")
def history(config_path: str | None, target_name: str | None, markdown: bool) -> None:
    """p95 per handler across the baseline file's git history."""
    from perfgate.history import baseline_history, render_history_markdown, render_history_text

    config, root = _load(config_path)
    targets: list[Target] = config.select([target_name] if target_name else [])
    for target in targets:
        found = baseline_history(root, root / target.baseline_path)
        if len(targets) > 1:
            click.echo(f"## {target.name}" if markdown else f"{target.name}:")
        click.echo(
            render_history_markdown(found) if markdown else render_history_text(found), nl=False
        )


def _register_github_commands() -> None:
    from perfgate.github.cli import comment_command, merge_command

    main.add_command(comment_command, "comment")
    main.add_command(merge_command, "merge")


_register_github_commands()

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

__all__ = ["main"]
