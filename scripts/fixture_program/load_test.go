package fixture

import (
	"context"
	"os"
	"runtime/trace"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestLoad generates a large trace for benchmarking the reader: set FIXTURE_LOAD_SECONDS and
// run with -trace. Workers handle short requests (tasks, regions, logs) with some blocking, so
// the trace has the usual mix of scheduler and annotation events.
func TestLoad(t *testing.T) {
	secs, _ := strconv.ParseFloat(os.Getenv("FIXTURE_LOAD_SECONDS"), 64)
	if secs <= 0 {
		t.Skip("FIXTURE_LOAD_SECONDS not set")
	}
	ctx := context.Background()
	deadline := time.Now().Add(time.Duration(secs * float64(time.Second)))
	var wg sync.WaitGroup
	ch := make(chan int, 16)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; time.Now().Before(deadline); i++ {
				route := "GET /orders"
				if i%3 == 0 {
					route = "POST /orders"
				}
				tctx, task := trace.NewTask(ctx, route)
				trace.WithRegion(tctx, "handle", func() {
					spin(time.Duration(5+i%5) * time.Microsecond)
					select {
					case ch <- i:
					default:
					}
					select {
					case <-ch:
					default:
					}
					trace.Log(tctx, "n", "1")
				})
				task.End()
				if i%50 == 0 {
					time.Sleep(50 * time.Microsecond)
				}
			}
		}(w)
	}
	wg.Wait()
}
