"""``perfgate history [TARGET]``: p95 per handler across the baseline file's git history."""

from __future__ import annotations

import click

from perfgate.commands.options import config_option, load


@click.command()
@config_option
@click.argument("target_name", required=False, metavar="[TARGET]")
@click.option("--markdown", is_flag=True, help="Markdown with a Mermaid chart instead of a table.")
def history(config_path: str | None, target_name: str | None, markdown: bool) -> None:
    """p95 per handler across the baseline file's git history."""
    from perfgate.history import baseline_history
    from perfgate.render.history import render_history_markdown, render_history_text

    config, root = load(config_path)
    targets = config.select([target_name] if target_name else [])
    for target in targets:
        found = baseline_history(root, root / target.baseline_path)
        if len(targets) > 1:
            click.echo(f"## {target.name}" if markdown else f"{target.name}:")
        click.echo(
            render_history_markdown(found) if markdown else render_history_text(found), nl=False
        )
