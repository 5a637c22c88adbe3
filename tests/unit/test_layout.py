"""The layout holds: no import cycles in perfgate/, and imports point one way only.

Every ``import`` in every module counts — at the top, inside functions (the commands import
stages lazily) and under ``TYPE_CHECKING`` — read with :mod:`ast`, without importing anything.
The layers, top to bottom: presentation (the CLI, its commands, the renderers, GitHub
delivery) → orchestration and edges (gate, measure, toolchain, git) → the pure stages that
measure nothing and judge (assess, judge, busy, explain, sides, samples, stats, baseline,
report, units, config) → trace/, which points at nothing above it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "perfgate"

PRESENTATION = (
    "perfgate.cli",
    "perfgate.__main__",
    "perfgate.commands",
    "perfgate.render",
    "perfgate.github",
)
EDGES = ("perfgate.gate", "perfgate.measure", "perfgate.toolchain", "perfgate.git")
PURE = (
    "perfgate.assess",
    "perfgate.judge",
    "perfgate.busy",
    "perfgate.explain",
    "perfgate.sides",
    "perfgate.samples",
    "perfgate.stats",
    "perfgate.baseline",
    "perfgate.report",
    "perfgate.units",
    "perfgate.config",
    "perfgate.errors",
    "perfgate.trace_summary",
    "perfgate.history.model",
    "perfgate.history.changepoints",
    "perfgate.history.analysis",
)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def extensions() -> set[str]:
    """C extension modules, by their source (``trace/_scan.c`` is ``perfgate.trace._scan``)."""
    return {module_name(p) for p in PACKAGE.rglob("*.c")}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The perfgate modules ``name`` imports anywhere in its source."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "perfgate")
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package, up level - 1 packages
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            if base.split(".")[0] != "perfgate":
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in known else base)
    return {m for m in found if m in known and m != name}


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods) | extensions()
    return {name: imports_of(name, path, known) for name, path in mods.items()}


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle (as a path that returns to its start), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def violations(edges: dict[str, set[str]], sources, targets) -> list[str]:
    return sorted(
        f"{src} imports {dst}"
        for src, dsts in edges.items()
        if sources(src)
        for dst in dsts
        if targets(dst)
    )


def test_the_package_is_read():
    edges = graph()
    assert {"perfgate.cli", "perfgate.judge", "perfgate.render.text", "perfgate.trace"} <= set(
        edges
    )
    assert "perfgate.judge" in edges["perfgate.assess"]  # imports are found
    assert "perfgate.render.text" in edges["perfgate.commands.deliver"]  # lazy ones too


def test_no_import_cycles():
    cycle = find_cycle(graph())
    assert cycle is None, "import cycle: " + " → ".join(cycle or [])


def test_nothing_below_presentation_imports_it():
    """What measures and judges never imports what renders or delivers."""
    edges = graph()
    bad = violations(
        edges,
        lambda m: not within(m, PRESENTATION),
        lambda m: within(m, PRESENTATION),
    )
    assert bad == [], "\n".join(bad)


def test_the_pure_stages_use_no_edge():
    """assess, judge, explain, … run nothing: no Go toolchain, no git, no measuring."""
    bad = violations(graph(), lambda m: within(m, PURE), lambda m: within(m, EDGES))
    assert bad == [], "\n".join(bad)


def test_trace_points_at_nothing_above_it():
    bad = violations(
        graph(),
        lambda m: within(m, ("perfgate.trace",)),
        lambda m: not within(m, ("perfgate.trace", "perfgate.errors")),
    )
    assert bad == [], "\n".join(bad)


@pytest.mark.parametrize(
    ("edges", "cycle"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": set()}, None),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c", "a"]),
        ({"a": {"a"}}, ["a", "a"]),
    ],
)
def test_find_cycle(edges, cycle):
    assert find_cycle(edges) == cycle


def test_an_added_import_is_caught(tmp_path):
    """The checks see a new import, even a lazy one inside a function."""
    source = "def f():\n    from perfgate.render.text import render_text\n"
    path = tmp_path / "judge.py"
    path.write_text(source)
    known = {"perfgate.judge", "perfgate.render", "perfgate.render.text"}
    edges = {"perfgate.judge": imports_of("perfgate.judge", path, known)}
    assert violations(edges, lambda m: within(m, PURE), lambda m: within(m, PRESENTATION)) == [
        "perfgate.judge imports perfgate.render.text"
    ]
