"""``perfgate history``: p95 per handler over main's recorded commits, the change points in it,
and the recent trends a pull request is told about.

* :mod:`.model` — what a record stores (:class:`HistoryRecord`) and a target's :class:`History`;
* :mod:`.store` — where records live: the ``perfgate-history`` branch or a directory;
* :mod:`.record` — ``history record``: measure HEAD as ``check`` does, store the result;
* :mod:`.changepoints` — E-Divisive means with a permutation test, pure Python;
* :mod:`.analysis` — a history's change points and trend notes;
* :mod:`.trends` — the notes ``perfgate check`` adds to its report;
* :mod:`.baseline` — the history of a baseline file, when nothing was recorded.
"""

from perfgate.history.analysis import Settings, analyse
from perfgate.history.baseline import baseline_history
from perfgate.history.model import (
    BaselineHistory,
    ChangePointResult,
    History,
    HistoryPoint,
    HistoryRecord,
)

__all__ = [
    "BaselineHistory",
    "ChangePointResult",
    "History",
    "HistoryPoint",
    "HistoryRecord",
    "Settings",
    "analyse",
    "baseline_history",
]
