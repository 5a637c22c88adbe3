"""Parse the text dump of ``go tool trace -d=parsed`` (Go 1.24+) / ``-d=1`` (Go 1.22, 1.23).

Each event is one line such as
``M=11005 P=0 G=25 TaskBegin Time=375160754816 ID=1 Parent=18446744073709551615 Type="GET /x"``
possibly followed by indented stack lines. Fields are read by key, never by position (their order
changed between Go versions); strings are Go-quoted (``strconv.Quote``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from perfgate.trace import annotations as ann
from perfgate.trace.columns import NO_GOROUTINE
from perfgate.trace.states import GoroutineStates

_FIELD = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)')
_KIND = re.compile(r"(?:^|\s)([A-Za-z]+)(?=\s|$)")
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|.)")
_SIMPLE = {
    "a": b"\a",
    "b": b"\b",
    "f": b"\f",
    "n": b"\n",
    "r": b"\r",
    "t": b"\t",
    "v": b"\v",
    "\\": b"\\",
    '"': b'"',
    "'": b"'",
}
KINDS = (ann.TASK_BEGIN, ann.TASK_END, ann.REGION_BEGIN, ann.REGION_END, ann.LOG, "Sync")
STATE_KINDS = ("StateTransition", "RangeBegin", "RangeActive", "RangeEnd")
_TRANSITION = re.compile(r"\s(\w+)->(\w+)(?:\s|$)")
_SCOPE_G = re.compile(r"Goroutine\((\d+)\)")


def unquote(s: str) -> str:
    """Undo Go's ``strconv.Quote`` (invalid UTF-8 comes back as U+FFFD, as the native reader)."""
    if len(s) < 2 or s[0] != '"' or s[-1] != '"':
        return s
    body = s[1:-1]
    if "\\" not in body:
        return body
    out = bytearray()
    pos = 0
    for m in _ESCAPE.finditer(body):
        out += body[pos : m.start()].encode()
        e = m.group(1)
        if e[0] == "x":
            out.append(int(e[1:], 16))
        elif e[0] in "uU":
            out += chr(int(e[1:], 16)).encode("utf-8", "surrogatepass")
        elif e[0] in "01234567" and len(e) == 3:
            out.append(int(e, 8) & 0xFF)
        else:
            out += _SIMPLE.get(e, e.encode())
        pos = m.end()
    out += body[pos:].encode()
    return out.decode("utf-8", "replace")


@dataclass(slots=True)
class DumpEvent:
    """One annotation (or Sync) event from the dump."""

    kind: str
    time: int
    g: int | None
    fields: dict[str, str]
    generation: int


def _int(v: str | None) -> int:
    if v is None:
        raise ValueError("missing field")
    return int(v)


def parse_lines(lines: Iterable[str], states: bool = False) -> Iterator[DumpEvent]:
    """Yield the task/region/log/sync events of a dump, in dump order (``states``: and the
    goroutine state transitions and ranges, with the transition's new state in field ``To``)."""
    gen = 0
    kinds = KINDS + STATE_KINDS if states else KINDS
    for line in lines:
        if not line.startswith("M="):
            continue
        if (
            "Task" not in line
            and "Region" not in line
            and " Log " not in line
            and (" Sync " not in line)
            and not (states and ("GoID=" in line or " Range" in line))
        ):
            continue
        km = _KIND.search(line)
        if km is None or km.group(1) not in kinds:
            continue
        kind = km.group(1)
        fields = dict(_FIELD.findall(line))
        if kind == "StateTransition":
            tm = _TRANSITION.search(line)
            if tm is None or "GoID" not in fields:
                continue
            fields["To"] = tm.group(2)
        if kind == "Sync":
            gen += 1
        g = int(fields.get("G", "-1"))
        yield DumpEvent(kind, _int(fields.get("Time")), None if g < 0 else g, fields, gen)


def feed(asm: ann.Assembler, ev: DumpEvent) -> None:
    """Hand one dump event to an Assembler."""
    f = ev.fields
    k = ev.kind
    g = NO_GOROUTINE if ev.g is None else ev.g
    name = asm.strings
    if k == ann.TASK_BEGIN:
        asm.task_begin(
            ev.time, g, _int(f.get("ID")), _int(f.get("Parent")), name(unquote(f.get("Type", '""')))
        )
    elif k == ann.TASK_END:
        asm.task_end(ev.time, g, _int(f.get("ID")))
    elif k == ann.REGION_BEGIN:
        asm.region_begin(ev.time, g, _int(f.get("Task")), name(unquote(f.get("Type", '""'))))
    elif k == ann.REGION_END:
        asm.region_end(ev.time, g, _int(f.get("Task")), name(unquote(f.get("Type", '""'))))
    elif k == ann.LOG:
        asm.log(
            ev.time,
            g,
            _int(f.get("Task")),
            name(unquote(f.get("Category", '""'))),
            name(unquote(f.get("Message", '""'))),
        )


def feed_states(gstates: GoroutineStates, ev: DumpEvent) -> None:
    """Hand one dump state transition or range event to a GoroutineStates."""
    f = ev.fields
    if ev.kind == "StateTransition":
        gstates.transition(ev.time, _int(f.get("GoID")), f["To"], unquote(f.get("Reason", '""')))
        return
    name = unquote(f.get("Name", '""'))
    sm = _SCOPE_G.match(f.get("Scope", ""))
    g = int(sm.group(1)) if sm else None
    if ev.kind == "RangeBegin":
        gstates.range_begin(ev.time, name, g)
    elif ev.kind == "RangeActive":
        gstates.range_active(ev.time, name, g)
    else:
        gstates.range_end(ev.time, name, g)
