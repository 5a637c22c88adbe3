// Package baselines gives Go code typed access to the latency baselines that perfgate
// commits in this directory, one JSON file per target: baselines/<target>.json.
//
// The files are written by the Python side ("perfgate baseline update"); this package only
// reads them. It decodes the fields Go code needs and ignores any others, so perfgate can
// add fields without breaking Go builds. Every *.json file in this directory is a target's
// baseline: keep other JSON files (schemas, fixtures) somewhere else.
package baselines

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// files holds the committed baselines. The pattern must match at least one file or the
// package does not compile, so baselines/example_service.json must always exist.
//
//go:embed *.json
var files embed.FS

// SchemaVersion is the baseline schema this package understands. Load rejects files with
// a missing (0) or newer schema_version.
const SchemaVersion = 2

// ErrNotFound is returned (wrapped) by Load when the target has no baseline file.
var ErrNotFound = errors.New("no baseline")

// Baseline is one target's committed baseline: baselines/<target>.json.
type Baseline struct {
	SchemaVersion int    `json:"schema_version"`
	Target        string `json:"target"`
	Meta          Meta   `json:"meta"`
	// Handlers is keyed by handler name, which is the runtime/trace task name: the route
	// pattern, e.g. "GET /orders/{id}".
	Handlers map[string]Handler `json:"handlers"`
}

// Meta describes where and how the baseline was measured.
type Meta struct {
	Commit          string `json:"commit"`
	Branch          string `json:"branch"`
	Created         string `json:"created"`
	GoVersion       string `json:"go_version"`
	GOOS            string `json:"goos"`
	GOARCH          string `json:"goarch"`
	CPU             string `json:"cpu"`
	GOMAXPROCS      int    `json:"gomaxprocs"`
	Runs            int    `json:"runs"`
	PerfgateVersion string `json:"perfgate_version"`
}

// Handler is the baseline of one handler: latency quantiles over all measured runs, and
// the p95 of each run on its own.
// Fields perfgate may leave out (p90_ns, max_ns, mean_ns, run_counts) decode as zero.
type Handler struct {
	Count     int     `json:"count"`
	P50       Nanos   `json:"p50_ns"`
	P90       Nanos   `json:"p90_ns"`
	P95       Nanos   `json:"p95_ns"`
	P99       Nanos   `json:"p99_ns"`
	Max       Nanos   `json:"max_ns"`
	Mean      Nanos   `json:"mean_ns"`
	RunP95NS  []Nanos `json:"run_p95_ns"`
	RunCounts []int   `json:"run_counts"`
	// RunLeP95 holds, per run, how many of its requests took at most the pooled p95
	// (schema 2): what perfgate judges a p95 change's uncertainty by.
	RunLeP95 []int `json:"run_le_p95"`
}

// Measured reports whether the handler has been measured (a placeholder entry has count 0).
func (h Handler) Measured() bool { return h.Count > 0 }

// Nanos is a latency in nanoseconds. It decodes from a JSON integer, or from a JSON number
// with a fraction or exponent (rounded to the nearest nanosecond).
type Nanos int64

// Duration returns n as a time.Duration.
func (n Nanos) Duration() time.Duration { return time.Duration(n) }

// UnmarshalJSON accepts any finite JSON number in the int64 range.
func (n *Nanos) UnmarshalJSON(data []byte) error {
	s := string(bytes.TrimSpace(data))
	if s == "null" {
		return nil // like encoding/json for other types: leave unchanged
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		*n = Nanos(i)
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f >= math.MaxInt64 || f < math.MinInt64 {
		return fmt.Errorf("baselines: %s is not a nanosecond count", s)
	}
	*n = Nanos(math.Round(f))
	return nil
}

// Names returns the handler names in the baseline, sorted.
func (b *Baseline) Names() []string {
	names := make([]string, 0, len(b.Handlers))
	for name := range b.Handlers {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Handler returns the baseline of the named handler.
func (b *Baseline) Handler(name string) (Handler, bool) {
	h, ok := b.Handlers[name]
	return h, ok
}

// Targets returns the targets that have a committed baseline, sorted.
func Targets() []string {
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		return nil // cannot happen for an embed.FS root
	}
	var targets []string
	for _, e := range entries {
		if name := e.Name(); !e.IsDir() && strings.HasSuffix(name, ".json") {
			targets = append(targets, strings.TrimSuffix(name, ".json"))
		}
	}
	sort.Strings(targets)
	return targets
}

// Load decodes the committed baseline of target, baselines/<target>.json. It fails when
// the file does not exist (wrapping ErrNotFound), is not valid JSON, has an unsupported
// schema_version, or names a different target.
func Load(target string) (*Baseline, error) {
	if !validTarget(target) {
		return nil, fmt.Errorf("baselines: invalid target name %q", target)
	}
	file := target + ".json"
	data, err := files.ReadFile(file)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("baselines: %w for target %q (baselines/%s); have %v", ErrNotFound, target, file, Targets())
		}
		return nil, fmt.Errorf("baselines: %w", err)
	}
	b, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("baselines/%s: %w", file, err)
	}
	if b.Target != target {
		return nil, fmt.Errorf("baselines/%s: target is %q, want %q", file, b.Target, target)
	}
	return b, nil
}

// validTarget reports whether target can name a file in this directory: letters, digits,
// '_', '-' and '.', not starting with '.'.
func validTarget(target string) bool {
	if target == "" || target[0] == '.' {
		return false
	}
	for _, c := range target {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-', c == '.':
		default:
			return false
		}
	}
	return true
}

// Decode parses one baseline file's contents. Unknown fields are ignored.
func Decode(data []byte) (*Baseline, error) {
	var b Baseline
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, err
	}
	switch {
	case b.SchemaVersion == 0:
		return nil, errors.New("schema_version is missing")
	case b.SchemaVersion > SchemaVersion:
		return nil, fmt.Errorf("schema_version %d is newer than this package understands (%d)", b.SchemaVersion, SchemaVersion)
	case b.SchemaVersion < 0:
		return nil, fmt.Errorf("schema_version %d is invalid", b.SchemaVersion)
	}
	if b.Handlers == nil {
		b.Handlers = map[string]Handler{}
	}
	return &b, nil
}
