package perftest

import (
	"fmt"
	"io"
	"net/http"
	"runtime"
	"runtime/trace"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeTB records what Run reports instead of failing the test that runs it. Methods Run
// is not expected to call reach the real test.
type fakeTB struct {
	testing.TB
	mu      sync.Mutex
	errors  []string
	logs    []string
	stopped bool // FailNow was called
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.Errorf(format, args...)
	f.FailNow()
}

func (f *fakeTB) FailNow() {
	f.mu.Lock()
	f.stopped = true
	f.mu.Unlock()
	runtime.Goexit()
}

func (f *fakeTB) Logf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.logs = append(f.logs, fmt.Sprintf(format, args...))
}

// runFake runs Run with a fakeTB on its own goroutine, as the testing package runs a test,
// so that FailNow can end it.
func runFake(t *testing.T, h http.Handler, p Plan) *fakeTB {
	f := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(f, h, p)
	}()
	<-done
	return f
}

// loadLog records what a service under Run saw.
type loadLog struct {
	mu       sync.Mutex
	requests []string // "warm-up GET /a?i=0" or "measured GET /a?i=0", in the order served
	inFlight atomic.Int64
	maxIn    atomic.Int64
}

func (l *loadLog) handler(hold time.Duration) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n := l.inFlight.Add(1)
		defer l.inFlight.Add(-1)
		for m := l.maxIn.Load(); n > m && !l.maxIn.CompareAndSwap(m, n); m = l.maxIn.Load() {
		}
		phase := "measured"
		if isWarmup(r.Context()) {
			phase = "warm-up"
		}
		l.mu.Lock()
		l.requests = append(l.requests, phase+" "+r.Method+" "+r.URL.RequestURI())
		l.mu.Unlock()
		time.Sleep(hold)
	}
}

func (l *loadLog) served() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.requests...)
}

// countPrefix counts the requests served that start with prefix.
func countPrefix(reqs []string, prefix string) int {
	n := 0
	for _, r := range reqs {
		if strings.HasPrefix(r, prefix) {
			n++
		}
	}
	return n
}

func TestRunWarmupOutsideTasksThenMeasured(t *testing.T) {
	tasks := recordTasks(t)
	load := &loadLog{}
	mux := http.NewServeMux()
	mux.Handle("GET /a/{n}", load.handler(0))
	mux.Handle("POST /b", load.handler(0))
	f := runFake(t, Trace(mux), Plan{
		Requests:    []Request{{Path: "/a/1"}, {Method: "POST", Path: "/b", Body: "{}"}},
		PerRoute:    7,
		Warmup:      5,
		Concurrency: 2,
	})
	if len(f.errors) > 0 || f.stopped {
		t.Fatalf("Run failed: %q", f.errors)
	}
	served := load.served()
	if len(served) != 24 {
		t.Fatalf("%d requests served, want (5 + 7) × 2", len(served))
	}
	for i, r := range served {
		if want := i < 10; strings.HasPrefix(r, "warm-up") != want {
			t.Errorf("request %d is %q: the warm-up must come first, all of it", i, r)
		}
	}
	for _, name := range []string{"GET /a/{n}", "POST /b"} {
		if b, e := tasks.count("begin "+name), tasks.count("end "+name); b != 7 || e != 7 {
			t.Errorf("%s: %d tasks begun and %d ended, want 7 (the measured requests alone)", name, b, e)
		}
	}
	if len(tasks.take()) != 28 {
		t.Errorf("tasks other than the routes' were created")
	}
}

func TestRunDefaults(t *testing.T) {
	load := &loadLog{}
	mux := http.NewServeMux()
	mux.Handle("GET /a", load.handler(200*time.Microsecond))
	mux.Handle("GET /b", load.handler(200*time.Microsecond))
	f := runFake(t, Trace(mux), Plan{Requests: []Request{{Path: "/a"}, {Path: "/b"}}})
	if len(f.errors) > 0 {
		t.Fatalf("Run failed: %q", f.errors)
	}
	served := load.served()
	for _, c := range []struct {
		prefix string
		want   int
	}{
		{"warm-up GET /a", DefaultWarmup}, {"warm-up GET /b", DefaultWarmup},
		{"measured GET /a", DefaultPerRoute}, {"measured GET /b", DefaultPerRoute},
	} {
		if got := countPrefix(served, c.prefix); got != c.want {
			t.Errorf("%s: %d requests, want %d", c.prefix, got, c.want)
		}
	}
	if DefaultWarmup != 50 || DefaultPerRoute != 300 || DefaultConcurrency != 4 {
		t.Errorf("defaults changed: warm-up %d, per route %d, concurrency %d", DefaultWarmup, DefaultPerRoute, DefaultConcurrency)
	}
	if m := load.maxIn.Load(); m != DefaultConcurrency {
		t.Errorf("at most %d requests in flight, want %d", m, DefaultConcurrency)
	}
}

func TestRunConcurrency(t *testing.T) {
	for _, c := range []int{1, 3} {
		load := &loadLog{}
		mux := http.NewServeMux()
		mux.Handle("GET /slow", load.handler(2*time.Millisecond))
		f := runFake(t, Trace(mux), Plan{Requests: []Request{{Path: "/slow"}}, PerRoute: 30, Warmup: -1, Concurrency: c})
		if len(f.errors) > 0 {
			t.Fatalf("Run failed: %q", f.errors)
		}
		if n := len(load.served()); n != 30 {
			t.Errorf("concurrency %d: %d requests served, want 30 and no warm-up", c, n)
		}
		if m := load.maxIn.Load(); m != int64(c) {
			t.Errorf("concurrency %d: at most %d requests in flight", c, m)
		}
	}
}

func TestRunInterleavesEntriesAndVariesThem(t *testing.T) {
	load := &loadLog{}
	mux := http.NewServeMux()
	mux.Handle("/", load.handler(0))
	each := func(i int) Request { return Request{Method: "PUT", Path: fmt.Sprintf("/v?i=%d", i)} }
	f := runFake(t, Trace(mux), Plan{
		Requests:    []Request{{Path: "/a"}, {Path: "/ignored", Each: each}, {Path: "/c"}},
		PerRoute:    3,
		Warmup:      2,
		Concurrency: 1,
	})
	if len(f.errors) > 0 {
		t.Fatalf("Run failed: %q", f.errors)
	}
	want := []string{
		"warm-up GET /a", "warm-up PUT /v?i=0", "warm-up GET /c",
		"warm-up GET /a", "warm-up PUT /v?i=1", "warm-up GET /c",
		"measured GET /a", "measured PUT /v?i=0", "measured GET /c",
		"measured GET /a", "measured PUT /v?i=1", "measured GET /c",
		"measured GET /a", "measured PUT /v?i=2", "measured GET /c",
	}
	if got := load.served(); !equal(got, want) {
		t.Errorf("served\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestRunSendsBodiesAndHeaders(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, fmt.Sprintf("%s %s %q type=%q x=%q host=%q", r.Method, r.URL.Path, body,
			r.Header.Get("Content-Type"), r.Header.Get("X-Tenant"), r.Host))
		mu.Unlock()
		w.WriteHeader(http.StatusCreated)
	})
	f := runFake(t, Trace(mux), Plan{
		Requests: []Request{
			{Method: "POST", Path: "/json", Body: `{"a":1}`},
			{Method: "POST", Path: "/form", Body: "a=1", Header: http.Header{
				"Content-Type": {"application/x-www-form-urlencoded"}, "X-Tenant": {"t1"}, "Host": {"shop.example"},
			}},
		},
		PerRoute: 1, Warmup: -1, Concurrency: 1,
	})
	if len(f.errors) > 0 {
		t.Fatalf("Run failed: %q", f.errors)
	}
	if len(seen) != 2 || !strings.HasPrefix(seen[0], `POST /json "{\"a\":1}" type="application/json" x="" host="127.0.0.1:`) ||
		seen[1] != `POST /form "a=1" type="application/x-www-form-urlencoded" x="t1" host="shop.example"` {
		t.Errorf("served:\n%s", strings.Join(seen, "\n"))
	}
}

func TestRunFailsOnNon2xx(t *testing.T) {
	var served atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		if r.PathValue("id") == "13" && !isWarmup(r.Context()) {
			http.Error(w, "no item 13\nin the store", http.StatusNotFound)
		}
	})
	mux.HandleFunc("GET /ok", func(http.ResponseWriter, *http.Request) { served.Add(1) })
	f := runFake(t, Trace(mux), Plan{
		Requests: []Request{
			{Path: "/ok"},
			{Each: func(i int) Request { return Request{Path: fmt.Sprintf("/items/%d", 10+i)} }},
		},
		PerRoute: 100, Warmup: 2, Concurrency: 2,
	})
	if !f.stopped || len(f.errors) == 0 {
		t.Fatalf("Run did not fail the test: errors %q", f.errors)
	}
	want := "perftest: measured: Requests[1]: GET /items/13: status 404 Not Found: no item 13 in the store"
	if f.errors[0] != want {
		t.Errorf("error %q, want %q", f.errors[0], want)
	}
	if n := served.Load(); n > 20 {
		t.Errorf("%d requests served: the clients should stop at the first failure", n)
	}
}

func TestRunFailureKinds(t *testing.T) {
	long := strings.Repeat("x", 600)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /moved", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ok", http.StatusFound) })
	mux.HandleFunc("GET /ok", func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc("GET /long", func(w http.ResponseWriter, r *http.Request) { http.Error(w, long, http.StatusInternalServerError) })
	mux.HandleFunc("GET /empty", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	mux.HandleFunc("GET /hijack", func(w http.ResponseWriter, r *http.Request) {
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	})
	cases := []struct{ path, want string }{
		{"/moved", "perftest: warm-up: Requests[0]: GET /moved: status 302 Found: <a href=\"/ok\">Found</a>."},
		{"/long", "perftest: warm-up: Requests[0]: GET /long: status 500 Internal Server Error: " + long[:512] + " …"},
		{"/empty", "perftest: warm-up: Requests[0]: GET /empty: status 503 Service Unavailable: (empty body)"},
		{"/hijack", "perftest: warm-up: Requests[0]: GET /hijack: EOF"},
		{"/nothing", "perftest: warm-up: Requests[0]: GET /nothing: status 404 Not Found: 404 page not found"},
	}
	for _, c := range cases {
		f := runFake(t, Trace(mux), Plan{Requests: []Request{{Path: c.path}}, PerRoute: 5, Warmup: 1, Concurrency: 1})
		if !f.stopped || len(f.errors) != 1 || f.errors[0] != c.want {
			t.Errorf("%s: stopped %v, errors %q, want %q", c.path, f.stopped, f.errors, c.want)
		}
	}
}

func TestRunRejectsBadPlans(t *testing.T) {
	var served atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(http.ResponseWriter, *http.Request) { served.Add(1) })
	cases := []struct {
		plan Plan
		want string
	}{
		{Plan{}, "perftest: the plan has no requests"},
		{Plan{Requests: []Request{{Path: "/"}}, PerRoute: -1}, "perftest: Plan.PerRoute is -1"},
		{Plan{Requests: []Request{{Path: "/"}}, Concurrency: -2}, "perftest: Plan.Concurrency is -2"},
		{Plan{Requests: []Request{{Path: "/"}, {Path: "items"}}}, `perftest: Requests[1] (request 0): path "items" does not start with /`},
		{Plan{Requests: []Request{{Method: "GE T", Path: "/"}}}, `perftest: Requests[0] (request 0): net/http: invalid method "GE T"`},
		{Plan{Requests: []Request{{Each: func(i int) Request {
			if i == 3 {
				return Request{Path: "/%zz"}
			}
			return Request{Path: "/"}
		}}}}, `perftest: Requests[0] (request 3): parse "http://127.0.0.1/%zz": invalid URL escape "%zz"`},
	}
	for _, c := range cases {
		f := runFake(t, Trace(mux), c.plan)
		if !f.stopped || len(f.errors) != 1 || !strings.HasPrefix(f.errors[0], c.want) {
			t.Errorf("%+v: stopped %v, errors %q, want %q", c.plan, f.stopped, f.errors, c.want)
		}
	}
	if n := served.Load(); n != 0 {
		t.Errorf("%d requests sent for bad plans", n)
	}
}

func TestRunLogs(t *testing.T) {
	tracing := trace.IsEnabled()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(http.ResponseWriter, *http.Request) {})
	f := runFake(t, Trace(mux), Plan{Requests: []Request{{Path: "/"}}, PerRoute: 10, Warmup: -1})
	logs := strings.Join(f.logs, "\n")
	if !strings.Contains(logs, "perfgate wants at least 59") {
		t.Errorf("no warning about 10 requests per entry in the logs:\n%s", logs)
	}
	if !strings.Contains(logs, "measured: 10 requests (10 per entry, 1 entries, 4 clients)") {
		t.Errorf("no summary in the logs:\n%s", logs)
	}
	if off := strings.Contains(logs, "tracing is off"); off == tracing {
		t.Errorf("tracing on: %v, but the logs say:\n%s", tracing, logs)
	}
}
