"""Units as people read them: durations in the largest readable unit, signed percentages."""

from __future__ import annotations

import pytest

from perfgate.units import format_ns, format_pct


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (None, "—"),
        (812, "812ns"),
        (43_100, "43.1µs"),
        (431_000, "431µs"),
        (12_400_000, "12.4ms"),
        (1_204_000_000, "1.20s"),
    ],
)
def test_format_ns(ns, text):
    assert format_ns(ns) == text


def test_format_pct():
    assert format_pct(12.345) == "+12.3%" and format_pct(-3) == "-3.0%" and format_pct(None) == "—"
