"""Facts about the Go execution trace wire format (Go 1.22+, "v2"), as Go's own reader has them.

Source of truth: ``internal/trace/tracev2/events.go`` (event numbers and argument counts) and
``internal/trace/version/version.go`` (which header version knows which events). The table only
grows between versions; existing events keep their argument counts.
"""

from __future__ import annotations

import re

HEADER_SIZE = 16
HEADER_RE = re.compile(rb"go 1\.(\d+) trace\x00\x00\x00")

# Header versions of the v2 format this reader understands, and of the older v1 format.
V2_VERSIONS = (22, 23, 25, 26)
V1_VERSIONS = (11, 19, 21)

# Structural event types (they open batches or appear only in special batches).
EV_EVENT_BATCH = 1
EV_STACKS = 2
EV_STRINGS = 4
EV_STRING = 5
EV_CPU_SAMPLES = 6
EV_CPU_SAMPLE = 7
EV_FREQUENCY = 8
EV_EXPERIMENTAL_BATCH = 49
EV_SYNC = 50
EV_CLOCK_SNAPSHOT = 51
EV_END_OF_GENERATION = 52

# Timed events that matter to the reader.
EV_GO_CREATE = 14
EV_GO_CREATE_SYSCALL = 15
EV_GO_START = 16
EV_GO_DESTROY = 17
EV_GO_DESTROY_SYSCALL = 18
EV_GO_STOP = 19
EV_GO_BLOCK = 20
EV_GO_UNBLOCK = 21
EV_GO_SYSCALL_BEGIN = 22
EV_GO_SYSCALL_END = 23
EV_GO_SYSCALL_END_BLOCKED = 24
EV_GO_STATUS = 25
EV_STW_BEGIN = 26
EV_STW_END = 27
EV_GC_ACTIVE = 28
EV_GC_BEGIN = 29
EV_GC_END = 30
EV_GC_MARK_ASSIST_ACTIVE = 34
EV_GC_MARK_ASSIST_BEGIN = 35
EV_GC_MARK_ASSIST_END = 36
EV_USER_TASK_BEGIN = 40
EV_USER_TASK_END = 41
EV_USER_REGION_BEGIN = 42
EV_USER_REGION_END = 43
EV_USER_LOG = 44
EV_GO_SWITCH = 45
EV_GO_SWITCH_DESTROY = 46
EV_GO_CREATE_BLOCKED = 47
EV_GO_STATUS_STACK = 48

# GoStatus values (tracev2.GoStatus).
GO_STATUS_RUNNABLE = 1
GO_STATUS_RUNNING = 2
GO_STATUS_SYSCALL = 3
GO_STATUS_WAITING = 4

USER_EVENTS = (
    EV_USER_TASK_BEGIN,
    EV_USER_TASK_END,
    EV_USER_REGION_BEGIN,
    EV_USER_REGION_END,
    EV_USER_LOG,
)

# Events that change a goroutine's state or open/close a GC or stop-the-world range: what the
# reader decodes on top of the user events when asked for goroutine states.
STATE_EVENTS = (
    EV_GO_CREATE,
    EV_GO_CREATE_SYSCALL,
    EV_GO_START,
    EV_GO_DESTROY,
    EV_GO_DESTROY_SYSCALL,
    EV_GO_STOP,
    EV_GO_BLOCK,
    EV_GO_UNBLOCK,
    EV_GO_SYSCALL_BEGIN,
    EV_GO_SYSCALL_END,
    EV_GO_SYSCALL_END_BLOCKED,
    EV_GO_STATUS,
    EV_STW_BEGIN,
    EV_STW_END,
    EV_GC_ACTIVE,
    EV_GC_BEGIN,
    EV_GC_END,
    EV_GC_MARK_ASSIST_ACTIVE,
    EV_GC_MARK_ASSIST_BEGIN,
    EV_GC_MARK_ASSIST_END,
    EV_GO_SWITCH,
    EV_GO_SWITCH_DESTROY,
    EV_GO_CREATE_BLOCKED,
    EV_GO_STATUS_STACK,
)

MAX_BATCH_SIZE = 64 << 10  # tracev2.MaxBatchSize
MAX_STRING_SIZE = 1 << 10  # tracev2.MaxEventTrailerDataSize

# Number of varint arguments (the time delta included) of each timed event that can appear in a
# regular event batch, keyed by event type.
_ARGS_122 = {
    9: 3,  # ProcsChange
    10: 3,  # ProcStart
    11: 1,  # ProcStop
    12: 4,  # ProcSteal
    13: 3,  # ProcStatus
    14: 4,  # GoCreate
    15: 2,  # GoCreateSyscall
    16: 3,  # GoStart
    17: 1,  # GoDestroy
    18: 1,  # GoDestroySyscall
    19: 3,  # GoStop
    20: 3,  # GoBlock
    21: 4,  # GoUnblock
    22: 3,  # GoSyscallBegin
    23: 1,  # GoSyscallEnd
    24: 1,  # GoSyscallEndBlocked
    25: 4,  # GoStatus
    26: 3,  # STWBegin
    27: 1,  # STWEnd
    28: 2,  # GCActive
    29: 3,  # GCBegin
    30: 2,  # GCEnd
    31: 2,  # GCSweepActive
    32: 2,  # GCSweepBegin
    33: 3,  # GCSweepEnd
    34: 2,  # GCMarkAssistActive
    35: 2,  # GCMarkAssistBegin
    36: 1,  # GCMarkAssistEnd
    37: 2,  # HeapAlloc
    38: 2,  # HeapGoal
    39: 2,  # GoLabel
    40: 5,  # UserTaskBegin
    41: 3,  # UserTaskEnd
    42: 4,  # UserRegionBegin
    43: 4,  # UserRegionEnd
    44: 5,  # UserLog
}
_ARGS_123 = {
    **_ARGS_122,
    45: 3,  # GoSwitch
    46: 3,  # GoSwitchDestroy
    47: 4,  # GoCreateBlocked
    48: 5,  # GoStatusStack
}


def event_args(version: int) -> dict[int, int]:
    """Argument counts of the event-batch events a trace of header version ``version`` may hold."""
    return _ARGS_122 if version < 23 else _ARGS_123


def version_name(version: int) -> str:
    """``22`` -> ``"1.22"``."""
    return f"1.{version}"
