package fixture

import (
	"context"
	"os"
	"runtime/trace"
	"sync"
	"testing"
	"time"
)

var (
	longOnce sync.Once
	longTask *trace.Task
	runs     int
)

// TestFixture is run with `go test -trace=F -count=3`. A task begun in the first run and ended
// in the third spans several trace generations (they roll about once a second).
func TestFixture(t *testing.T) {
	ctx := context.Background()
	longOnce.Do(func() { _, longTask = trace.NewTask(ctx, "long/across-generations") })
	runs++

	ctx, root := trace.NewTask(ctx, "fixture/root")
	release := Leaks(ctx)
	HandOff(ctx)
	Burst(ctx, 4, 40)
	for i := 0; i < 5; i++ {
		Handle(ctx, "GET /slow", 2*time.Millisecond)
	}
	// Stay alive long enough for generations to roll.
	time.Sleep(900 * time.Millisecond)
	Burst(ctx, 3, 20)
	root.End()
	release()
	if runs == 3 {
		longTask.End()
	}
}

// TestStartStop traces itself (set FIXTURE_TRACE_OUT, run without -trace): a task and a region
// begun before tracing starts and ended inside the trace, and a task begun inside the trace and
// ended after it stops.
func TestStartStop(t *testing.T) {
	out := os.Getenv("FIXTURE_TRACE_OUT")
	if out == "" {
		t.Skip("FIXTURE_TRACE_OUT not set")
	}
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ctx := context.Background()
	pctx, pre := trace.NewTask(ctx, "pre/started")
	preRegion := trace.StartRegion(pctx, "pre/region")

	if err := trace.Start(f); err != nil {
		t.Fatal(err)
	}
	Handle(pctx, "GET /inside", 100*time.Microsecond)
	preRegion.End()
	pre.End()
	Burst(ctx, 2, 10)
	time.Sleep(1100 * time.Millisecond)
	_, post := trace.NewTask(ctx, "post/ended")
	Handle(ctx, "GET /last", 50*time.Microsecond)
	trace.Stop()
	post.End()
}
