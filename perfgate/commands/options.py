"""Click options and small helpers that several commands share: one definition, one wording."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from perfgate.config import Config, Target, load_config, parse_percent
from perfgate.github.sticky import COMMENT_WHEN

F = TypeVar("F", bound=Callable[..., Any])


def progress(message: str) -> None:
    """Progress lines go to stderr so stdout stays clean for tables and JSON."""
    click.echo(f"perfgate: {message}", err=True)


def warn(message: str) -> None:
    """A warning line on stderr."""
    click.echo(f"perfgate: warning: {message}", err=True)


def load(config_path: str | None) -> tuple[Config, Path]:
    """The config (``--config``, else found from the current directory) and its directory."""
    return load_config(Path(config_path) if config_path else None, Path.cwd())


def select_targets(
    config: Config,
    names: tuple[str, ...],
    runs: int | None = None,
    threshold: float | None = None,
    baseline_runs: int | None = None,
) -> list[Target]:
    """The targets named with ``--target`` (all without), with the command line's overrides."""
    return [t.overridden(runs, threshold, baseline_runs) for t in config.select(list(names))]


def _percent(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return parse_percent(value, "--threshold")
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


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
threshold_option = click.option(
    "--threshold",
    callback=_percent,
    metavar="PCT",
    help='Fail only when p95 rose by more than this, e.g. "15%" '
    "(overrides the config; default 12%, 10% with --against).",
)
json_out_option = click.option(
    "--json-out", type=click.Path(dir_okay=False), help="Write the JSON report here."
)
markdown_out_option = click.option(
    "--markdown-out", type=click.Path(dir_okay=False), help="Write Markdown here."
)
junit_out_option = click.option(
    "--junit-out",
    type=click.Path(dir_okay=False),
    help="Write a JUnit XML report here (one test case per handler: regressed and missing "
    "fail, new, insufficient and inconclusive are skipped) for GitLab, Jenkins, Buildkite.",
)


comment_when_option = click.option(
    "--comment-when",
    type=click.Choice(COMMENT_WHEN),
    default="always",
    show_default=True,
    help="always: post/update on every run; changes: only when something is not a pass or "
    "the verdicts changed since the posted comment; regressions: only when something fails "
    "(and to update a posted comment that is no longer true); never: as --no-comment.",
)


def comment_options(command: F) -> F:
    """The PR-comment options shared by ``check`` and ``merge``: one definition, one wording."""
    for option in reversed(
        [
            click.option(
                "--comment/--no-comment",
                default=None,
                help="Post/update the pull-request comment (default: on in a pull_request "
                "workflow).",
            ),
            click.option(
                "--dry-run", is_flag=True, help="Print the comment body instead of posting it."
            ),
            click.option(
                "--comment-key",
                metavar="KEY",
                help="Keep one comment per KEY on the PR (default: derived from the target names).",
            ),
            comment_when_option,
        ]
    ):
        command = option(command)
    return command
