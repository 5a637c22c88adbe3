package fixture

import (
	"context"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/trace"
	"sync"
	"testing"
	"time"
)

var sink [][]byte

// TestRuntime exercises every goroutine state and range the reader tracks, inside tasks: GC
// cycles with mark assists and stop-the-world pauses (allocation under a low GOGC), blocking on
// a mutex, a channel, a select and a sleep, syscalls, and scheduler wait (more runnable
// goroutines than Ps). Run with `go test -run ^TestRuntime$ -trace=F`.
func TestRuntime(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(5))
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	ctx := context.Background()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				rctx, task := trace.NewTask(ctx, "GET /alloc")
				trace.WithRegion(rctx, "allocate", func() {
					for k := 0; k < 200; k++ {
						sink = append(sink, make([]byte, 4096))
						if len(sink) > 512 {
							sink = sink[:0]
						}
					}
				})
				trace.WithRegion(rctx, "lock", func() {
					mu.Lock()
					spin(50 * time.Microsecond)
					mu.Unlock()
				})
				ch := make(chan int)
				go func() { time.Sleep(20 * time.Microsecond); ch <- 1 }()
				select {
				case <-ch:
				case <-time.After(time.Second):
				}
				f, err := os.CreateTemp("", "fixture")
				if err == nil {
					f.Write(make([]byte, 1024))
					f.Close()
					os.Remove(f.Name())
				}
				time.Sleep(10 * time.Microsecond)
				task.End()
			}
		}(w)
	}
	wg.Wait()
}
