package zoo

import (
	"context"
	"math"
	"runtime/trace"
	"sync/atomic"
	"time"
)

// Phase runs fn inside a runtime/trace region named name and then, in the same region, the
// given knobs (the route's slowdowns; nil for none). With no knobs it costs what
// trace.WithRegion costs: nothing is timed, nothing is looked up.
func Phase(ctx context.Context, name string, knobs []*Knob, fn func()) {
	if len(knobs) == 0 {
		trace.WithRegion(ctx, name, fn)
		return
	}
	trace.WithRegion(ctx, name, func() {
		t0 := time.Now()
		fn()
		own := time.Since(t0)
		for _, k := range knobs {
			k.apply(own)
		}
	})
}

// apply does one request's share of the slowdown; own is how long the phase's own work took.
func (k *Knob) apply(own time.Duration) {
	switch k.Kind {
	case Const:
		Spin(k.Dur)
	case Prop:
		Spin(time.Duration(float64(own) * k.Pct / 100))
	case Tail:
		if k.count.Add(1)%uint64(k.N) == 0 {
			Spin(k.Dur)
		}
	case Alloc:
		k.garbage.Store(makeGarbage(k.Bytes))
	case Lock:
		k.mu.Lock()
		Spin(k.Dur)
		k.mu.Unlock()
	case Block:
		done := make(chan struct{})
		go func() { // a round-trip to another goroutine that waits, as a call to a backend would
			Sleep(k.Dur)
			close(done)
		}()
		<-done
	}
}

// garbageNode is one 256-byte heap object of an alloc knob's garbage: pointerful, so the
// collector has to scan what is still live when it runs.
type garbageNode struct {
	next *garbageNode
	pad  [248]byte
}

// makeGarbage allocates about n bytes as a linked list of 256-byte nodes.
func makeGarbage(n int) *garbageNode {
	var head *garbageNode
	for i := n / 256; i > 0; i-- {
		g := &garbageNode{next: head}
		g.pad[i%len(g.pad)] = byte(i)
		head = g
	}
	return head
}

// spinItersPerNs is the calibrated speed of spinLoop; set once, before any request, when
// ZOO_SLOW names a knob.
var spinItersPerNs atomic.Uint64 // math.Float64bits

// calibrateSpin times spinLoop a number of times and keeps the fastest, so a neighbour
// busy during start-up cannot shrink every later slowdown.
func calibrateSpin() {
	const iters = 200_000
	best := time.Duration(math.MaxInt64)
	for i := 0; i < 25; i++ {
		t0 := time.Now()
		spinSink.Add(spinLoop(iters))
		if d := time.Since(t0); d < best && d > 0 {
			best = d
		}
	}
	spinItersPerNs.Store(math.Float64bits(float64(iters) / float64(best.Nanoseconds())))
}

var spinSink atomic.Uint64

// Spin does about d worth of CPU work (as fast as this CPU ran it at start-up). Unlike a
// busy wait on the clock, it takes longer when the goroutine is preempted, as real work does.
func Spin(d time.Duration) {
	if d <= 0 {
		return
	}
	rate := math.Float64frombits(spinItersPerNs.Load())
	if rate == 0 {
		calibrateSpin()
		rate = math.Float64frombits(spinItersPerNs.Load())
	}
	spinSink.Add(spinLoop(int(float64(d.Nanoseconds()) * rate)))
}

//go:noinline
func spinLoop(n int) uint64 {
	x := uint64(0x9E3779B97F4A7C15)
	for i := 0; i < n; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}
