package baselines

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLoadExampleService(t *testing.T) {
	b, err := Load("example_service")
	if err != nil {
		t.Fatal(err)
	}
	if b.SchemaVersion != SchemaVersion || b.Target != "example_service" {
		t.Errorf("got schema_version %d target %q", b.SchemaVersion, b.Target)
	}
	if len(b.Handlers) == 0 {
		t.Error("example_service baseline has no handlers")
	}
	for _, name := range b.Names() {
		h, ok := b.Handler(name)
		if !ok {
			t.Errorf("Handler(%q) not found though Names lists it", name)
		}
		if h.Count < 0 || h.P50 < 0 || h.P95 < 0 || h.P99 < 0 {
			t.Errorf("handler %q has negative numbers: %+v", name, h)
		}
	}
}

func TestTargets(t *testing.T) {
	targets := Targets()
	if !slices.Contains(targets, "example_service") {
		t.Fatalf("Targets() = %v, want it to contain example_service", targets)
	}
	if !slices.IsSorted(targets) {
		t.Errorf("Targets() = %v, not sorted", targets)
	}
	for _, target := range targets {
		if _, err := Load(target); err != nil {
			t.Errorf("Load(%q): %v", target, err)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	_, err := Load("no_such_target")
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("Load(no_such_target) error = %v, want ErrNotFound", err)
	}
	for _, bad := range []string{"", "../example_service", "a/b", `a\b`, ".", "example_service.json/.."} {
		if _, err := Load(bad); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("Load(%q) error = %v, want an invalid-name error", bad, err)
		}
	}
}

func TestDecodeTolerant(t *testing.T) {
	data := `{
	  "schema_version": 1,
	  "target": "svc",
	  "future_field": {"x": [1, 2]},
	  "meta": {"commit": "abc", "gomaxprocs": 2, "runs": 5, "extra": true},
	  "handlers": {
	    "GET /orders/{id}": {"count": 3000, "p50_ns": 41000, "p95_ns": 8.25e4, "p99_ns": 120000.4,
	                         "run_p95_ns": [80000, 81000.6], "mean_ns": 1, "histogram": []}
	  }
	}`
	b, err := Decode([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	h, ok := b.Handler("GET /orders/{id}")
	if !ok {
		t.Fatal("handler missing")
	}
	if h.Count != 3000 || h.P50 != 41000 || h.P95 != 82500 || h.P99 != 120000 || !h.Measured() {
		t.Errorf("decoded %+v", h)
	}
	if !slices.Equal(h.RunP95NS, []Nanos{80000, 81001}) {
		t.Errorf("run_p95_ns = %v", h.RunP95NS)
	}
	if h.P95.Duration() != 82500*time.Nanosecond {
		t.Errorf("Duration() = %v", h.P95.Duration())
	}
	if b.Meta.Commit != "abc" || b.Meta.GOMAXPROCS != 2 || b.Meta.Runs != 5 {
		t.Errorf("meta = %+v", b.Meta)
	}
}

func TestDecodeRejects(t *testing.T) {
	cases := map[string]string{
		"not json":        `{`,
		"no schema":       `{"target": "svc", "handlers": {}}`,
		"newer schema":    `{"schema_version": 3, "target": "svc", "handlers": {}}`,
		"string p95":      `{"schema_version": 1, "target": "svc", "handlers": {"GET /": {"p95_ns": "fast"}}}`,
		"huge p95":        `{"schema_version": 1, "target": "svc", "handlers": {"GET /": {"p95_ns": 1e300}}}`,
		"handlers a list": `{"schema_version": 1, "target": "svc", "handlers": [{"name": "GET /"}]}`,
	}
	for name, data := range cases {
		if _, err := Decode([]byte(data)); err == nil {
			t.Errorf("%s: Decode succeeded, want an error", name)
		}
	}
}

func TestDecodeNoHandlers(t *testing.T) {
	b, err := Decode([]byte(`{"schema_version": 1, "target": "svc"}`))
	if err != nil {
		t.Fatal(err)
	}
	if b.Handlers == nil || len(b.Names()) != 0 {
		t.Errorf("Handlers = %v, want an empty map", b.Handlers)
	}
	if !strings.HasPrefix(b.Target, "svc") {
		t.Errorf("target %q", b.Target)
	}
}
