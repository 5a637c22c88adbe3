package zoo

import (
	"testing"
	"time"
)

func TestTimerFD(t *testing.T) {
	tf, err := newTimerFD()
	if err != nil {
		t.Fatalf("timerfd_create: %v (Sleep would fall back to time.Sleep)", err)
	}
	defer tf.file.Close()
	start := time.Now()
	if err := tf.wait(200 * time.Microsecond); err != nil {
		t.Fatalf("waiting on the timerfd: %v", err)
	}
	if el := time.Since(start); el < 200*time.Microsecond {
		t.Errorf("a 200µs timerfd wait returned after %v", el)
	}
}
