"""Secrets: which environment variables the code under test never sees, and which values perfgate
never prints.

The perf test is the pull request's code, and perfgate runs it in the CI job that runs perfgate,
often with a token in the environment (the Action passes ``GITHUB_TOKEN`` to ``perfgate check``
for the comment). So the environment of the ``go`` commands and of the test binary is
:func:`scrub_env`'ed. The rule (README, *Threat model*):

* dropped: every variable whose name contains ``TOKEN``, ``SECRET``, ``PASSWORD``, ``PASSWD``,
  ``CREDENTIAL``, ``PRIVATE_KEY``, ``API_KEY``, ``APIKEY`` or ``ACCESS_KEY``, or has ``AUTH`` as
  a ``_``-separated word (``SSH_AUTH_SOCK``, ``DOCKER_AUTH_CONFIG``; not ``GOAUTH``), in any case;
  every ``ACTIONS_*`` variable (the runner's cache and OIDC tokens and their URLs); and the
  Actions file commands ``GITHUB_ENV``, ``GITHUB_OUTPUT``, ``GITHUB_PATH``, ``GITHUB_STATE`` and
  ``GITHUB_STEP_SUMMARY`` (writing to them would set later steps' environment, outputs and
  summary);
* kept: everything else — ``PATH``, ``HOME``, ``GOPATH``, ``GOCACHE``, ``GOFLAGS``,
  ``GOPROXY``, ``GOPRIVATE``, ``GONOSUMDB``, ``GOAUTH``, ``NETRC``, proxies, ``GITHUB_ACTIONS``,
  ``CI`` … — so ``go build`` still finds its caches and private modules;
* a variable the target's ``env`` in ``perfgate.toml`` sets is set to that value, whatever its
  name (the value is in the repository, so it is no secret of the job's).

And no secret is printed: :func:`redact` replaces the values of the secret-named variables of
perfgate's own environment (:func:`secret_values`: each value as it is, stripped of surrounding
whitespace and newlines, and each of its lines) with ``***`` — the CLI applies it to everything
written to stdout and stderr, and the GitHub delivery to the comment, job summary and files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

_SECRET_NAME = re.compile(
    r"TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|PRIVATE_KEY|API_?KEY|ACCESS_KEY|(?:^|_)AUTH(?:_|$)",
    re.IGNORECASE,
)
# Actions' file commands: a test writing to them would set later steps' environment, outputs
# or summary.
FILE_COMMANDS = frozenset(
    {"GITHUB_ENV", "GITHUB_OUTPUT", "GITHUB_PATH", "GITHUB_STATE", "GITHUB_STEP_SUMMARY"}
)
MIN_SECRET_LENGTH = 8  # shorter values ("true", "1") would redact ordinary words
REDACTED = "***"


def is_secret_name(name: str) -> bool:
    """True for a variable whose value perfgate treats as a secret (``GITHUB_TOKEN``, ``GH_TOKEN``,
    ``ACTIONS_RUNTIME_TOKEN``, ``ACTIONS_ID_TOKEN_REQUEST_TOKEN``, ``NPM_TOKEN``,
    ``AWS_SECRET_ACCESS_KEY`` …)."""
    return bool(_SECRET_NAME.search(name))


def withheld_from_tests(name: str) -> bool:
    """True for a variable the code under test does not get (see the module docstring)."""
    upper = name.upper()
    return is_secret_name(name) or upper.startswith("ACTIONS_") or upper in FILE_COMMANDS


def scrub_env(env: Mapping[str, str], explicit: Mapping[str, str] | None = None) -> dict[str, str]:
    """``env`` without the variables :func:`withheld_from_tests`, then ``explicit`` (a target's
    ``env`` from the config) on top, whatever the names."""
    out = {k: v for k, v in env.items() if not withheld_from_tests(k)}
    out.update(explicit or {})
    return out


def secret_values(env: Mapping[str, str]) -> list[str]:
    """The strings to redact: each secret-named variable's value, stripped, and its lines;
    longest first (so a value is replaced before a part of it)."""
    found: set[str] = set()
    for name, value in env.items():
        if not is_secret_name(name) or not value:
            continue
        for candidate in (value, value.strip(), *value.splitlines()):
            candidate = candidate.strip()
            if len(candidate) >= MIN_SECRET_LENGTH:
                found.add(candidate)
    return sorted(found, key=lambda v: (-len(v), v))


def redact(text: str, values: Iterable[str]) -> str:
    """``text`` with every one of ``values`` replaced by ``***``."""
    for v in values:
        if v in text:
            text = text.replace(v, REDACTED)
    return text
