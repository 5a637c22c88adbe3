package zoo

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/trace"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Request is one request of a perf load and the status it must get.
type Request struct {
	Method      string
	Path        string
	Body        []byte
	ContentType string            // set when Body is not nil; "application/json" if empty
	Header      map[string]string // extra headers
	Want        int               // expected status; 0: any 2xx
}

// Load describes a perf test's traffic: Workers concurrent clients send, per route, Warmup
// untraced requests and then PerRoute measured ones; Requests[route](i) is a route's i-th
// request of a phase. Routes are interleaved: route 1, route 2, …, route 1, ….
type Load struct {
	Workers  int
	Warmup   int
	PerRoute int
	Requests map[string]func(i int) Request
}

func (l Load) plan(t testing.TB, routes []string, n int) []Request {
	t.Helper()
	plan := make([]Request, 0, n*len(routes))
	for i := 0; i < n; i++ {
		for _, r := range routes {
			gen, ok := l.Requests[r]
			if !ok {
				t.Fatalf("route %q has no load profile", r)
			}
			plan = append(plan, gen(i))
		}
	}
	return plan
}

// RunPerf drives h over a loopback httptest.Server: the warm-up phase (no tasks), a GC, then
// the measured phase, whose every request is one runtime/trace task.
func RunPerf(t *testing.T, h http.Handler, routes []string, load Load) {
	t.Helper()
	if !trace.IsEnabled() {
		t.Log("tracing is off: the load runs, but no latencies are recorded (run with -test.trace)")
	}
	ts := httptest.NewServer(h)
	defer ts.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: load.Workers, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}

	start := time.Now()
	warm := load.plan(t, routes, load.Warmup)
	if err := drive(client, ts.URL, warm, load.Workers, true); err != nil {
		t.Fatal(err)
	}
	warmTime := time.Since(start)
	runtime.GC() // every run's measured phase starts from a clean heap
	start = time.Now()
	measured := load.plan(t, routes, load.PerRoute)
	if err := drive(client, ts.URL, measured, load.Workers, false); err != nil {
		t.Fatal(err)
	}
	t.Logf("warm-up %d requests in %v; measured %d requests (%d per route, %d workers) in %v",
		len(warm), warmTime.Round(time.Millisecond), len(measured), load.PerRoute, load.Workers,
		time.Since(start).Round(time.Millisecond))
}

// CheckRoutes sends each route's first few requests of the load (untraced) and fails the
// test unless every one gets its expected 2xx status.
func CheckRoutes(t *testing.T, h http.Handler, routes []string, load Load) {
	t.Helper()
	ts := httptest.NewServer(h)
	defer ts.Close()
	for _, r := range routes {
		for _, req := range load.plan(t, []string{r}, 5) {
			if req.Want != 0 && (req.Want < 200 || req.Want > 299) {
				t.Errorf("%s: the load expects status %d, not a 2xx", r, req.Want)
			}
		}
	}
	if err := drive(ts.Client(), ts.URL, load.plan(t, routes, 5), 2, true); err != nil {
		t.Fatal(err)
	}
}

func drive(client *http.Client, base string, plan []Request, workers int, warmup bool) error {
	var (
		next  atomic.Int64
		fail  atomic.Bool
		once  sync.Once
		first error
		wg    sync.WaitGroup
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !fail.Load() {
				i := int(next.Add(1) - 1)
				if i >= len(plan) {
					return
				}
				if err := send(client, base, plan[i], warmup); err != nil {
					fail.Store(true)
					once.Do(func() { first = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

func send(client *http.Client, base string, r Request, warmup bool) error {
	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequest(r.Method, base+r.Path, body)
	if err != nil {
		return err
	}
	if r.Body != nil {
		ct := r.ContentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	for k, v := range r.Header {
		req.Header.Set(k, v)
	}
	if warmup {
		req.Header.Set(WarmupHeader, "1")
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", r.Method, r.Path, err)
	}
	defer resp.Body.Close()
	if ok := resp.StatusCode == r.Want || (r.Want == 0 && resp.StatusCode/100 == 2); !ok {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s %s: status %d, want %d: %s", r.Method, r.Path, resp.StatusCode, r.Want, msg)
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return fmt.Errorf("%s %s: reading the body: %w", r.Method, r.Path, err)
	}
	return nil
}
