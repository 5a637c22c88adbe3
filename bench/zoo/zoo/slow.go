// Package zoo holds what the zoo's services share: the slowdown knobs read from ZOO_SLOW,
// the tracing middleware, and the perf-test load driver.
//
// The knobs let one compiled test binary run unchanged or with one handler made slower,
// without rebuilding. ZOO_SLOW is read once, at start-up; its grammar is
//
//	ZOO_SLOW = entry *( ";" entry )
//	entry    = route "=" kind ":" args       e.g.  GET /items/{id}=tail:8:300us
//	kind     = const:<dur> | prop:<pct> | tail:<n>:<dur> | alloc:<bytes> | lock:<dur> | block:<dur>
//
// <dur> is a Go duration ("300us", "1.5ms"), <pct> a number with an optional "%", <bytes>
// an integer with an optional k/KiB or m/MiB suffix (powers of 1024). A route may carry
// several entries; they apply in order. See README.md for what each kind does.
package zoo

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// EnvVar is the environment variable the knobs are read from.
const EnvVar = "ZOO_SLOW"

// Kind is one kind of slowdown.
type Kind string

const (
	Const Kind = "const" // constant added CPU work per request
	Prop  Kind = "prop"  // CPU work proportional to the phase's own time
	Tail  Kind = "tail"  // one request in N takes a slower path (extra CPU work)
	Alloc Kind = "alloc" // extra garbage per request
	Lock  Kind = "lock"  // hold a lock shared by the route's requests
	Block Kind = "block" // a blocking wait (timer + channel round-trip to a goroutine)
)

// Knob is one parsed ZOO_SLOW entry.
type Knob struct {
	Route string
	Kind  Kind
	Dur   time.Duration // const, tail, lock, block
	Pct   float64       // prop
	N     int           // tail: one request in N
	Bytes int           // alloc

	count   atomic.Uint64               // tail: requests seen
	mu      sync.Mutex                  // lock: shared by all requests of the route
	garbage atomic.Pointer[garbageNode] // alloc: the last request's garbage
}

// String renders the knob back in ZOO_SLOW syntax.
func (k *Knob) String() string {
	switch k.Kind {
	case Prop:
		return fmt.Sprintf("%s=prop:%g", k.Route, k.Pct)
	case Tail:
		return fmt.Sprintf("%s=tail:%d:%v", k.Route, k.N, k.Dur)
	case Alloc:
		return fmt.Sprintf("%s=alloc:%d", k.Route, k.Bytes)
	default:
		return fmt.Sprintf("%s=%s:%v", k.Route, k.Kind, k.Dur)
	}
}

// ParseSlow parses a ZOO_SLOW value into its knobs, keyed by route. An empty value gives none.
func ParseSlow(spec string) (map[string][]*Knob, error) {
	out := map[string][]*Knob{}
	for _, entry := range strings.Split(spec, ";") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		k, err := parseEntry(entry)
		if err != nil {
			return nil, fmt.Errorf("%s: %q: %w", EnvVar, entry, err)
		}
		out[k.Route] = append(out[k.Route], k)
	}
	return out, nil
}

func parseEntry(entry string) (*Knob, error) {
	eq := strings.LastIndex(entry, "=")
	if eq < 0 {
		return nil, fmt.Errorf(`want "<route>=<kind>:<args>"`)
	}
	route := strings.TrimSpace(entry[:eq])
	if route == "" {
		return nil, fmt.Errorf("no route before '='")
	}
	parts := strings.Split(strings.TrimSpace(entry[eq+1:]), ":")
	k := &Knob{Route: route, Kind: Kind(parts[0])}
	args := parts[1:]
	want := 1
	if k.Kind == Tail {
		want = 2
	}
	if len(args) != want {
		switch k.Kind {
		case Const, Prop, Tail, Alloc, Lock, Block:
			return nil, fmt.Errorf("%s takes %d argument(s), got %d", k.Kind, want, len(args))
		default:
			return nil, fmt.Errorf("unknown kind %q (want const, prop, tail, alloc, lock or block)", parts[0])
		}
	}
	var err error
	switch k.Kind {
	case Const, Lock, Block:
		k.Dur, err = parseDur(args[0])
	case Prop:
		k.Pct, err = parsePct(args[0])
	case Tail:
		k.N, err = strconv.Atoi(args[0])
		if err != nil || k.N < 1 {
			return nil, fmt.Errorf("tail: n must be a positive integer, got %q", args[0])
		}
		k.Dur, err = parseDur(args[1])
	case Alloc:
		k.Bytes, err = parseBytes(args[0])
	default:
		return nil, fmt.Errorf("unknown kind %q (want const, prop, tail, alloc, lock or block)", parts[0])
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k.Kind, err)
	}
	return k, nil
}

func parseDur(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("bad duration %q (want e.g. 300us or 1.5ms)", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("negative duration %q", s)
	}
	return d, nil
}

func parsePct(s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "%"), 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("bad percentage %q (want e.g. 30 or 30%%)", s)
	}
	return v, nil
}

func parseBytes(s string) (int, error) {
	s = strings.TrimSpace(s)
	mult := 1
	for _, suf := range []struct {
		s string
		m int
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"k", 1 << 10}, {"K", 1 << 10}, {"m", 1 << 20}, {"M", 1 << 20}} {
		if strings.HasSuffix(s, suf.s) {
			s, mult = strings.TrimSuffix(s, suf.s), suf.m
			break
		}
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("bad byte count %q (want e.g. 65536, 64k or 64KiB)", s)
	}
	return v * mult, nil
}

var (
	envOnce  sync.Once
	envKnobs map[string][]*Knob
	envErr   error
)

// FromEnv returns the knobs of ZOO_SLOW, parsed on first use and never again.
func FromEnv() (map[string][]*Knob, error) {
	envOnce.Do(func() {
		envKnobs, envErr = ParseSlow(os.Getenv(EnvVar))
		if envErr == nil && len(envKnobs) > 0 {
			calibrateSpin()
		}
	})
	return envKnobs, envErr
}

// Slowdowns are the knobs of one service, by route. The zero value (and nil) slows nothing.
type Slowdowns map[string][]*Knob

// SlowdownsFor returns the ZOO_SLOW knobs for a service with these routes. A knob that
// names a route the service does not have is an error: a typo must not pass for an
// unchanged run.
func SlowdownsFor(routes []string) (Slowdowns, error) {
	all, err := FromEnv()
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, r := range routes {
		known[r] = true
	}
	for r := range all {
		if !known[r] {
			return nil, fmt.Errorf("%s names route %q, which this service does not have (routes: %s)",
				EnvVar, r, strings.Join(routes, ", "))
		}
	}
	return Slowdowns(all), nil
}
