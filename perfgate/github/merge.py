"""Combine the reports of several matrix jobs into one (pure).

Each job gates its own targets and writes ``--json-out``; a final job merges them so the PR gets
one comment and one verdict. Reports must not share a target: two results for one target would
make the combined verdict depend on which one came first.
"""

from __future__ import annotations

from collections.abc import Sequence

from perfgate.errors import PerfgateError
from perfgate.report import Mode, Report, overall_verdict


def _targets_of(report: Report) -> set[str]:
    return {t.name for t in report.targets} | {h.target for h in report.handlers}


def _one(values: list[str | None], what: str, sources: Sequence[str]) -> str | None:
    """The single non-empty value across reports, or a PerfgateError naming the disagreement."""
    seen = {v for v in values if v}
    if len(seen) > 1:
        pairs = ", ".join(f"{s}: {v}" for s, v in zip(sources, values, strict=True) if v)
        raise PerfgateError(
            f"the reports disagree on {what} ({pairs})",
            hint="merge only reports of one run of one commit (the jobs of one workflow run).",
        )
    return next(iter(seen), None)


def merge_reports(reports: Sequence[Report], sources: Sequence[str] | None = None) -> Report:
    """One report with every report's targets and handlers (and every gate file one says the
    pull request changes, and every trend note on main); the verdict is recomputed.

    ``sources`` names each report in messages (file paths). Raises :class:`PerfgateError` for an
    empty list, a target that appears in two reports, or reports of different commits or modes.
    """
    if not reports:
        raise PerfgateError("nothing to merge: give at least one report")
    if sources is None:
        sources = [f"report {i + 1}" for i in range(len(reports))]
    owner: dict[str, str] = {}
    for report, source in zip(reports, sources, strict=True):
        for name in sorted(_targets_of(report)):
            if name in owner:
                raise PerfgateError(
                    f"target {name!r} is in both {owner[name]} and {source}",
                    hint="each matrix job must gate different targets (perfgate check --target).",
                )
            owner[name] = source

    mode = _one([r.mode for r in reports], "the mode (baseline vs --against)", sources)
    against = _one([r.against_ref for r in reports], "the --against ref", sources)
    commit = _one([r.commit for r in reports], "the commit", sources)
    versions = list(dict.fromkeys(r.perfgate_version for r in reports if r.perfgate_version))
    warnings: list[str] = []
    for report in reports:
        warnings.extend(w for w in report.warnings if w not in warnings)
    if len(versions) > 1:
        warnings.append(f"the merged reports come from different perfgate versions: {versions}")
    created = [r.created for r in reports if r.created]

    handlers = [h for r in reports for h in r.handlers]
    return Report(
        perfgate_version=versions[0] if versions else "",
        verdict=overall_verdict(handlers),
        mode=Mode(mode) if mode else Mode.BASELINE,
        against_ref=against,
        commit=commit,
        created=max(created) if created else None,
        targets=[t for r in reports for t in r.targets],
        handlers=handlers,
        warnings=warnings,
        gate_files_changed=sorted({f for r in reports for f in r.gate_files_changed}),
        trends=[t for r in reports for t in r.trends],
    )
