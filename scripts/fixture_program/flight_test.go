//go:build go1.25

package fixture

import (
	"context"
	"os"
	"runtime/trace"
	"sync"
	"testing"
	"time"
)

// TestFlightRecorder writes a flight recorder's window (Go 1.25+) to FIXTURE_TRACE_OUT: a
// production-style trace that begins in the middle of the program. A task and a region begun
// long before the window end inside it, a task is never ended, and requests fan out to
// goroutines that open regions of the request's task.
func TestFlightRecorder(t *testing.T) {
	out := os.Getenv("FIXTURE_TRACE_OUT")
	if out == "" {
		t.Skip("FIXTURE_TRACE_OUT not set")
	}
	fr := trace.NewFlightRecorder(trace.FlightRecorderConfig{
		MinAge:   1200 * time.Millisecond, // two generations or more
		MaxBytes: 256 << 10,
	})
	if err := fr.Start(); err != nil {
		t.Fatal(err)
	}
	defer fr.Stop()
	ctx := context.Background()
	ectx, early := trace.NewTask(ctx, "early/before-window")
	earlyRegion := trace.StartRegion(ectx, "early/region")
	_, never := trace.NewTask(ctx, "never-ended/flight")
	_ = never
	// Generations roll about once a second: after 3.5 s the recorder has dropped the one
	// holding the begins above.
	for deadline := time.Now().Add(3500 * time.Millisecond); time.Now().Before(deadline); {
		Burst(ctx, 1, 2)
		time.Sleep(10 * time.Millisecond)
	}
	earlyRegion.End()
	early.End()
	for i := 0; i < 20; i++ {
		FanOut(ctx, "GET /fanout", 1+i%3)
	}
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := fr.WriteTo(f); err != nil {
		t.Fatal(err)
	}
}

// FanOut handles one request on `calls` goroutines at once, each in a region of the task.
func FanOut(ctx context.Context, route string, calls int) {
	ctx, task := trace.NewTask(ctx, route)
	defer task.End()
	var wg sync.WaitGroup
	for c := 0; c < calls; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			trace.WithRegion(ctx, "backend", func() { spin(30 * time.Microsecond) })
		}()
	}
	trace.WithRegion(ctx, "wait", wg.Wait)
}
