package zoo

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestParseSlow(t *testing.T) {
	got, err := ParseSlow(" GET /items/{id}=tail:8:300us ; POST /orders=prop:30% ;GET /items/{id}=lock:1.5ms;" +
		"GET /a=alloc:64KiB;GET /b=alloc:1000;GET /c=block:2ms;GET /d=const:40us;GET /e=alloc:2m;")
	if err != nil {
		t.Fatal(err)
	}
	items := got["GET /items/{id}"]
	if len(items) != 2 || items[0].Kind != Tail || items[0].N != 8 || items[0].Dur != 300*time.Microsecond ||
		items[1].Kind != Lock || items[1].Dur != 1500*time.Microsecond {
		t.Errorf("GET /items/{id}: %v", items)
	}
	if k := got["POST /orders"][0]; k.Kind != Prop || k.Pct != 30 {
		t.Errorf("prop: %v", k)
	}
	if k := got["GET /a"][0]; k.Bytes != 64<<10 {
		t.Errorf("alloc 64KiB: %d", k.Bytes)
	}
	if k := got["GET /b"][0]; k.Bytes != 1000 {
		t.Errorf("alloc 1000: %d", k.Bytes)
	}
	if k := got["GET /e"][0]; k.Bytes != 2<<20 {
		t.Errorf("alloc 2m: %d", k.Bytes)
	}
	if k := got["GET /c"][0]; k.Kind != Block || k.Dur != 2*time.Millisecond {
		t.Errorf("block: %v", k)
	}
	if k := got["GET /d"][0]; k.Kind != Const || k.Dur != 40*time.Microsecond || k.String() != "GET /d=const:40µs" {
		t.Errorf("const: %v", k)
	}
	if empty, err := ParseSlow(""); err != nil || len(empty) != 0 {
		t.Errorf("empty: %v %v", empty, err)
	}
}

func TestParseSlowErrors(t *testing.T) {
	for spec, want := range map[string]string{
		"GET /x":                "want \"<route>=<kind>:<args>\"",
		"=const:1ms":            "no route",
		"GET /x=slow:1ms":       "unknown kind",
		"GET /x=const":          "const takes 1 argument",
		"GET /x=const:fast":     "bad duration",
		"GET /x=const:-1ms":     "negative duration",
		"GET /x=tail:0:1ms":     "positive integer",
		"GET /x=tail:1ms":       "tail takes 2 argument",
		"GET /x=prop:lots":      "bad percentage",
		"GET /x=alloc:1GiB":     "bad byte count",
		"GET /x=block:1ms:2ms":  "block takes 1 argument",
		"GET /y=nope:1:2:3:4:5": "unknown kind",
	} {
		_, err := ParseSlow(spec)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one containing %q", spec, err, want)
		}
	}
}

// Lower bounds only: a busy machine makes everything slower, never faster. CPU work is
// checked at 70% of its size (Spin's rate is calibrated once, possibly on a faster moment).
func TestKnobsDoTheirWork(t *testing.T) {
	calibrateSpin()
	knobs, err := ParseSlow("R=const:2ms;R=tail:2:3ms;R=alloc:64k;R=lock:1ms;R=block:2ms")
	if err != nil {
		t.Fatal(err)
	}
	ks := knobs["R"]
	start := time.Now()
	Phase(context.Background(), "phase", ks, func() {}) // tail: request 1 of 2 takes the fast path
	if d := time.Since(start); d < 2*time.Millisecond+2100*time.Microsecond {
		t.Errorf("const+lock+block took %v, want at least 4.1ms", d)
	}
	if ks[2].garbage.Load() == nil {
		t.Error("alloc made no garbage")
	}
	start = time.Now()
	Phase(context.Background(), "phase", ks, func() {}) // request 2 of 2: the slow path too
	if d := time.Since(start); d < 2*time.Millisecond+4200*time.Microsecond {
		t.Errorf("with the tail's slow path: %v, want at least 6.2ms", d)
	}
	if n := ks[1].count.Load(); n != 2 {
		t.Errorf("tail counted %d requests, want 2", n)
	}
	prop, _ := ParseSlow("R=prop:100")
	start = time.Now()
	Phase(context.Background(), "phase", prop["R"], func() { Spin(2 * time.Millisecond) })
	if d := time.Since(start); d < 2800*time.Microsecond {
		t.Errorf("prop:100 on 2ms of work took %v, want about 4ms", d)
	}
}

func TestSlowdownsForRejectsUnknownRoutes(t *testing.T) {
	t.Setenv(EnvVar, "") // FromEnv has already run or will see nothing; test the check itself
	all, _ := ParseSlow("GET /nope=const:1ms")
	envOnce.Do(func() {})
	saved := envKnobs
	envKnobs = all
	defer func() { envKnobs = saved }()
	if _, err := SlowdownsFor([]string{"GET /yes"}); err == nil || !strings.Contains(err.Error(), "GET /nope") {
		t.Errorf("want an error naming the unknown route, got %v", err)
	}
}

func TestSleepWaitsAtLeastItsDuration(t *testing.T) {
	for _, d := range []time.Duration{100 * time.Microsecond, 2 * time.Millisecond} {
		best := time.Hour
		for i := 0; i < 5; i++ {
			start := time.Now()
			Sleep(d)
			if el := time.Since(start); el < best {
				best = el
			}
		}
		if best < d {
			t.Errorf("Sleep(%v): fastest of 5 took %v", d, best)
		}
		// How much longer is the machine's business (a loaded machine wakes threads late);
		// TestTimerFD checks that the accurate path is the one taken.
		t.Logf("Sleep(%v): fastest of 5 took %v", d, best)
	}
}
