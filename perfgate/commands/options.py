"""Click options and small helpers that several commands share: one definition, one wording."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from perfgate.config import Config, Target, check_paths, find_config, load_config, parse_percent
from perfgate.github.sticky import COMMENT_WHEN
from perfgate.render import escape

F = TypeVar("F", bound=Callable[..., Any])


def progress(message: str) -> None:
    """Progress lines go to stderr so stdout stays clean for tables and JSON (one line each,
    never a workflow command: :func:`perfgate.render.escape.text`)."""
    click.echo(f"perfgate: {escape.text(message)}", err=True)


def warn(message: str) -> None:
    """A warning line on stderr (neutralised like :func:`progress`)."""
    click.echo(f"perfgate: warning: {escape.text(message)}", err=True)


def config_file(config_path: str | None) -> Path | None:
    """The config file ``load`` reads: ``--config``, else the one found from here."""
    return Path(config_path) if config_path else find_config(Path.cwd())


def load(config_path: str | None) -> tuple[Config, Path]:
    """The config (``--config``, else found from the current directory) and its directory.

    Its paths must stay inside the repository (:func:`perfgate.config.check_paths`): checked
    here, before any command measures or writes anything.
    """
    from perfgate.git import toplevel

    config, root = load_config(Path(config_path) if config_path else None, Path.cwd())
    check_paths(config, root, toplevel(root))
    return config, root


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
