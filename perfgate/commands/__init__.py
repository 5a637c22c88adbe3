"""perfgate's commands, one module each: ``check``, ``baseline``, ``report``, ``history``,
``init``, ``comment`` and ``merge``.

Each is a thin click layer: it parses options, calls the stages in order and maps the outcome to
an exit code. Options two commands share are defined once in :mod:`perfgate.commands.options`;
what ``check`` and ``merge`` do with a finished report (print, write files, hand to GitHub) is
:mod:`perfgate.commands.deliver`. Errors the user can fix are turned into a message and exit code
in one place, :mod:`perfgate.cli`.
"""
