"""``perfgate report TRACE...``: per-handler latency straight from trace files."""

from __future__ import annotations

import click


@click.command()
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
    from perfgate.render.traces import to_json, to_text
    from perfgate.toolchain import locate_go
    from perfgate.trace import read_trace, scanner_note
    from perfgate.trace_summary import runtime_means, summarize

    go = locate_go()  # for --reader go, and auto's fallback to it
    datas = [
        read_trace(path, reader=reader, go=go, states=states)  # type: ignore[arg-type]
        for path in traces
    ]
    if (note := scanner_note()) and any(d.reader == "native" for d in datas):
        click.echo(f"perfgate: note: {note}", err=True)
    stats = summarize(datas)
    means = runtime_means(datas) if states else None
    if not stats and not as_json:
        click.echo("no completed runtime/trace tasks in the trace", err=True)
    click.echo(to_json(datas, stats, means) if as_json else to_text(datas, stats, means), nl=False)
