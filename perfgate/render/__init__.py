"""Presentation: finished data in, text out — nothing here measures, judges or delivers.

``text`` (the terminal table and what every format shares) · ``markdown`` (PR comment, job
summary) · ``html`` (the self-contained HTML report) · ``charts`` (Mermaid and inline SVG) ·
``traces`` (``perfgate report``'s table and JSON) · ``history`` (``perfgate history``'s table and
chart). Units are formatted by :mod:`perfgate.units`, shared with the stages that judge.
"""
