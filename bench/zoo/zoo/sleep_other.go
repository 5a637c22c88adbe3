//go:build !linux

package zoo

import "time"

// Sleep blocks for d (time.Sleep; on Linux, sleep_linux.go waits on a timerfd instead).
func Sleep(d time.Duration) { time.Sleep(d) }
