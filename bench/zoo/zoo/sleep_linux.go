package zoo

import (
	"os"
	"syscall"
	"time"
	"unsafe"
)

// Sleep blocks the calling goroutine for d the way network I/O does: it waits in Go's
// netpoller for a timerfd to fire, so the goroutine parks, its thread and P stay free, and
// it is woken as soon as the kernel's high-resolution timer expires. Go's own timers
// (time.Sleep, time.Timer) wake up to a millisecond late when the process is otherwise
// idle, which would turn every simulated sub-millisecond wait into a millisecond one; a
// nanosleep system call would be accurate but hold a thread and its P, as no real
// network wait does.
func Sleep(d time.Duration) {
	if d <= 0 {
		return
	}
	var t *timerFD
	select {
	case t = <-timerFDs:
	default:
		var err error
		if t, err = newTimerFD(); err != nil {
			time.Sleep(d)
			return
		}
	}
	if err := t.wait(d); err != nil {
		_ = t.file.Close()
		time.Sleep(d)
		return
	}
	select {
	case timerFDs <- t:
	default:
		_ = t.file.Close()
	}
}

// timerFDs is a pool of idle timers, so a wait costs two system calls, not four.
var timerFDs = make(chan *timerFD, 256)

type timerFD struct {
	fd   uintptr  // the raw descriptor: os.File.Fd would switch it to blocking mode
	file *os.File // the same descriptor, registered with the netpoller
}

const (
	clockMonotonic = 1
	tfdNonblock    = syscall.O_NONBLOCK
	tfdCloexec     = syscall.O_CLOEXEC
)

func newTimerFD() (*timerFD, error) {
	fd, _, errno := syscall.Syscall(syscall.SYS_TIMERFD_CREATE, clockMonotonic, tfdNonblock|tfdCloexec, 0)
	if errno != 0 {
		return nil, errno
	}
	return &timerFD{fd: fd, file: os.NewFile(fd, "timerfd")}, nil
}

type itimerspec struct {
	interval syscall.Timespec
	value    syscall.Timespec
}

func (t *timerFD) wait(d time.Duration) error {
	spec := itimerspec{value: syscall.NsecToTimespec(int64(d))}
	_, _, errno := syscall.Syscall6(syscall.SYS_TIMERFD_SETTIME, t.fd, 0, uintptr(unsafe.Pointer(&spec)), 0, 0, 0)
	if errno != 0 {
		return errno
	}
	var expirations [8]byte
	_, err := t.file.Read(expirations[:])
	return err
}
