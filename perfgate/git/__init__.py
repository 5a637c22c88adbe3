"""Implementation of perfgate's git edge; the public API is :mod:`perfgate.gitops`.

One small module per job: ``refresh`` (may this checkout commit baselines?), ``commit``,
``push``, ``worktree`` (A/B checkouts) and ``refs`` (the default ``--against`` ref).
"""
