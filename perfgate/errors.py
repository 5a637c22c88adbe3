"""The one error type for problems the user can fix (exit code 2).

Anything that is not a :class:`PerfgateError` is a bug in perfgate and may show a traceback.
"""

from __future__ import annotations

EXIT_PASS = 0
EXIT_REGRESSION = 1
EXIT_USAGE = 2
EXIT_INCONCLUSIVE = 3  # nothing failed, but a handler could not be judged: the machine was busy


class PerfgateError(Exception):
    """A problem with the user's input or environment: printed as a message, exit code 2.

    ``hint`` is an optional second line saying what to do about it.
    """

    exit_code = EXIT_USAGE

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n{self.hint}"
