"""The data of ``perfgate history``: what one recorded commit stores, and a target's history as
the command shows it — p95 per handler per commit, oldest first, with its change points.

Pure data; :mod:`perfgate.history.store` reads and writes records, :mod:`.analysis` finds the
change points, :mod:`perfgate.render.history` shows the result.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from perfgate.baseline import Machine
from perfgate.report import HandlerStats, TrendNote

RECORD_SCHEMA_VERSION = 1


class HistoryRecord(BaseModel):
    """One commit of main measured by ``perfgate history record``: per handler the pooled
    statistics and each run's p95 (:class:`~perfgate.report.HandlerStats`), and where and on
    what it was measured. Stored as ``<target>/<commit>.json``."""

    model_config = ConfigDict(extra="ignore")

    schema_version: int = RECORD_SCHEMA_VERSION
    target: str
    commit: str
    parent: str = ""  # first parent ("" for a root commit)
    parents: list[str] = Field(default_factory=list)
    date: str  # the commit's committer date, ISO 8601
    subject: str = ""
    branch: str = ""
    recorded: str = ""  # when it was measured, ISO 8601
    runs: int = 0
    machine: Machine = Field(default_factory=Machine)
    perfgate_version: str = ""
    cpu_shares: list[float] = Field(default_factory=list)
    handlers: dict[str, HandlerStats]

    @property
    def path(self) -> str:
        """Where it is stored, relative to the store's top: ``<target>/<commit>.json``."""
        return record_path(self.target, self.commit)

    def to_json(self) -> str:
        data = self.model_dump(mode="json")
        data["handlers"] = dict(sorted(data["handlers"].items()))
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def record_path(target: str, commit: str) -> str:
    return f"{target}/{commit}.json"


def parse_record(raw: bytes, where: str) -> HistoryRecord:
    """A stored record from its bytes; ValueError names ``where`` and what is wrong."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ValueError(f"{where} is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError(f"{where} is not a history record (not a JSON object)")
    version = data.get("schema_version")
    if version != RECORD_SCHEMA_VERSION:
        raise ValueError(
            f"{where} has schema_version {version!r}; this perfgate reads {RECORD_SCHEMA_VERSION}"
        )
    try:
        return HistoryRecord.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err["loc"]) or "(top level)"
        raise ValueError(f"{where} is invalid: field {loc!r}: {err['msg']}") from None


@dataclass(frozen=True)
class HistoryPoint:
    """One commit of a history: its sha, date, subject, where it was read from (a baseline
    file's path in that commit, or a record's path in the store), each handler's p95 (ns) and,
    for records, how many runs it pooled and each handler's median (ns)."""

    commit: str
    date: datetime
    subject: str
    path: str
    p95_ns: dict[str, int]
    runs: int | None = None
    p50_ns: dict[str, int] = field(default_factory=dict)  # records only: each handler's median

    @property
    def short_sha(self) -> str:
        return self.commit[:7]


class ChangePointResult(BaseModel):
    """A change point of one handler: the first commit after it, the median p95 of the commits
    from the previous change point up to it (``before``) and from it up to the next
    (``after``), and the permutation test's p-value.

    ``alongside``: other handlers' change points at the same commit or a neighbour, smaller
    than this one — one change, named after the handler it moved most (see
    :func:`perfgate.history.analysis.attribute`)."""

    target: str
    handler: str
    commit: str
    before_p95_ns: int
    after_p95_ns: int
    delta_pct: float
    p_value: float
    alongside: list[ChangePointResult] = Field(default_factory=list)


@dataclass(frozen=True)
class History:
    """A target's history, oldest first — from the history store's records, or from every
    committed version of its baseline file — and what analysing it found.

    ``path`` names where it came from (the baseline file, or the store); ``notes`` says what was
    skipped and why, and how the commits were ordered.
    """

    path: str
    points: list[HistoryPoint]
    notes: list[str] = field(default_factory=list)
    target: str = ""
    source: str = "baseline"  # "baseline": the baseline file's git log; "store": records
    change_points: list[ChangePointResult] = field(default_factory=list)
    trends: list[TrendNote] = field(default_factory=list)

    @property
    def handlers(self) -> list[str]:
        """Every handler that appears in any version, sorted."""
        return sorted({h for p in self.points for h in p.p95_ns})

    @property
    def every_change_point(self) -> list[ChangePointResult]:
        """Every handler's change points, those listed alongside another's included."""
        return [c for top in self.change_points for c in (top, *top.alongside)]


BaselineHistory = History  # its name from when baseline files were the only source


def parse_date(text: str) -> datetime:
    """An ISO 8601 date as git and records write it; the epoch when it is not one."""
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return datetime.fromtimestamp(0).astimezone()
