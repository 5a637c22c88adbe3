// Package fixture produces runtime/trace annotations for perfgate's trace-reader fixtures.
//
// Every scenario the reader must get right is exercised here: nested tasks, a task ended on
// another goroutine, regions nested in tasks and in each other, an unended region, a never-ended
// task, logs, a task spanning several trace generations, and concurrent workers so that events
// of different threads interleave.
package fixture

import (
	"context"
	"fmt"
	"runtime/trace"
	"sync"
	"time"
)

// spin burns CPU for about d without sleeping, so the goroutine stays on its thread.
func spin(d time.Duration) {
	end := time.Now().Add(d)
	x := 0
	for time.Now().Before(end) {
		x++
	}
	_ = x
}

// Handle simulates one request: a task with a nested child task, nested regions and logs.
func Handle(ctx context.Context, route string, work time.Duration) {
	ctx, task := trace.NewTask(ctx, route)
	defer task.End()
	trace.Log(ctx, "route", route)
	trace.WithRegion(ctx, "decode", func() {
		spin(work / 4)
	})
	trace.WithRegion(ctx, "handle", func() {
		cctx, child := trace.NewTask(ctx, "db.query")
		r := trace.StartRegion(cctx, "query")
		trace.WithRegion(cctx, "scan", func() { spin(work / 4) })
		r.End()
		trace.Logf(cctx, "rows", "%d", int(work/time.Microsecond))
		child.End()
		time.Sleep(work / 4)
	})
}

// HandOff begins a task on this goroutine and ends it on another one.
func HandOff(ctx context.Context) {
	_, task := trace.NewTask(ctx, "handoff")
	done := make(chan struct{})
	go func() {
		defer close(done)
		spin(20 * time.Microsecond)
		task.End()
	}()
	<-done
}

// Leaks leaves a region open on a parked goroutine and a task that is never ended.
// The returned function releases the goroutine (ending nothing).
func Leaks(ctx context.Context) (release func()) {
	_, never := trace.NewTask(ctx, "never-ended")
	_ = never
	stop := make(chan struct{})
	started := make(chan struct{})
	go func() {
		trace.StartRegion(ctx, "unended")
		close(started)
		<-stop
	}()
	<-started
	return func() { close(stop) }
}

// Burst runs workers concurrently, each handling n short requests.
func Burst(ctx context.Context, workers, n int) {
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < n; i++ {
				route := fmt.Sprintf("GET /orders/%d", w%2)
				if i%3 == 0 {
					route = "POST /orders"
				}
				Handle(ctx, route, time.Duration(20+i%7*10)*time.Microsecond)
			}
		}(w)
	}
	wg.Wait()
}
