"""perfgate on GitHub: the sticky PR comment, job summary, step outputs and annotations.

``perfgate check`` calls :func:`publish` after rendering; ``perfgate comment`` and
``perfgate merge`` (in :mod:`perfgate.github.cli`) post an existing report or combine several.
Importing this package does not import PyGithub; only posting a comment does.
"""

from perfgate.github.publish import publish

__all__ = ["publish"]
