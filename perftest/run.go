package perftest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"runtime/trace"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Defaults of a Plan's zero fields.
const (
	DefaultPerRoute    = 300
	DefaultWarmup      = 50
	DefaultConcurrency = 4
)

// minSamples is the fewest requests per handler for which perfgate computes a p95.
const minSamples = 59

const (
	// requestTimeout bounds one request, from sending it to reading the whole answer.
	requestTimeout = 30 * time.Second
	// closeTimeout bounds the wait for handlers still running when the load has ended
	// (a handler stuck past requestTimeout).
	closeTimeout = 5 * time.Second
	// maxExcerpt is how much of a failed answer's body a failure message quotes.
	maxExcerpt = 512
)

// Request is one route to drive: a method (GET when empty), a path with an optional query
// ("/items/42?full=1"), a body and headers. A non-empty Body is sent with Content-Type
// application/json unless Header sets one.
type Request struct {
	Method, Path, Body string
	Header             http.Header

	// Each, if set, makes the entry's requests vary (other ids, pages, carts): the
	// entry's i-th request, counting from 0 in the warm-up and again in the measurement,
	// is Each(i). The entry's own Method, Path, Body and Header are then unused, and so is
	// the Each of what Each returns. Run calls Each for the whole plan before sending the
	// first request.
	Each func(i int) Request
}

// Plan is the load Run drives: PerRoute requests of each entry, after Warmup requests of
// each entry that no task measures.
type Plan struct {
	Requests    []Request // each is one route to drive
	PerRoute    int       // measured requests per entry (default 300)
	Warmup      int       // requests per entry before measuring, outside any task (default 50; negative: none)
	Concurrency int       // concurrent clients (default 4)
}

// Run serves h on an httptest.Server and drives the plan; it fails t on any non-2xx answer.
//
// The requests go out interleaved — entry 1, entry 2, …, entry 1, … — from Concurrency
// clients that each send the next request of the plan as soon as their previous one is
// answered, so every route is measured under the same mix and at the same time. First
// come the warm-up requests, served with a context from Warmup so that Trace starts no
// task for them (they fill pools and caches and open the keep-alive connections); then
// a runtime.GC, so that every run's measurement starts from a clean heap; then the
// measured requests. A run with tracing on thus leaves exactly PerRoute complete tasks per
// entry in the trace. h is normally Trace(mux); Run itself adds no task and no region.
//
// Any answer outside 2xx (redirects are not followed), a transport error or a request
// slower than 30 s fails t with the request, the status and the start of the body; the
// clients stop sending and Run ends the test with t.FailNow. A bad plan (no requests, a
// negative count, an invalid method or path) fails t before any request is sent.
func Run(t testing.TB, h http.Handler, p Plan) {
	t.Helper()
	p, err := p.withDefaults()
	var warm, measured []call
	if err == nil {
		warm, err = p.calls(p.Warmup)
	}
	if err == nil {
		measured, err = p.calls(p.PerRoute)
	}
	if err != nil {
		t.Fatalf("perftest: %v", err)
		return
	}
	run(t, h, p, warm, measured)
}

func run(t testing.TB, h http.Handler, p Plan, warm, measured []call) {
	t.Helper()
	if !trace.IsEnabled() {
		t.Logf("perftest: tracing is off: the load runs, but no latency is recorded (perfgate runs this test with -trace)")
	}
	if p.PerRoute < minSamples {
		t.Logf("perftest: %d requests per entry per run: perfgate wants at least %d per handler for a p95", p.PerRoute, minSamples)
	}

	var warming atomic.Bool
	warming.Store(true)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if warming.Load() {
			r = r.WithContext(Warmup(r.Context()))
		}
		h.ServeHTTP(w, r)
	}))
	defer closeServer(t, ts)
	tr := &http.Transport{
		MaxIdleConns:        p.Concurrency,
		MaxIdleConnsPerHost: p.Concurrency,
		DisableCompression:  true,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport:     tr,
		Timeout:       requestTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}

	start := time.Now()
	if failed(t, "warm-up", drive(client, ts.URL, warm, p.Concurrency)) {
		return
	}
	warmTime := time.Since(start)
	warming.Store(false)

	runtime.GC()
	start = time.Now()
	if failed(t, "measured", drive(client, ts.URL, measured, p.Concurrency)) {
		return
	}
	t.Logf("perftest: warm-up: %d requests in %v; measured: %d requests (%d per entry, %d entries, %d clients) in %v",
		len(warm), warmTime.Round(time.Millisecond), len(measured), p.PerRoute, len(p.Requests),
		p.Concurrency, time.Since(start).Round(time.Millisecond))
}

func (p Plan) withDefaults() (Plan, error) {
	if len(p.Requests) == 0 {
		return p, errors.New("the plan has no requests")
	}
	if p.PerRoute < 0 {
		return p, fmt.Errorf("Plan.PerRoute is %d: it is the number of measured requests per entry", p.PerRoute)
	}
	if p.Concurrency < 0 {
		return p, fmt.Errorf("Plan.Concurrency is %d: it is the number of concurrent clients", p.Concurrency)
	}
	if p.PerRoute == 0 {
		p.PerRoute = DefaultPerRoute
	}
	switch {
	case p.Warmup == 0:
		p.Warmup = DefaultWarmup
	case p.Warmup < 0:
		p.Warmup = 0
	}
	if p.Concurrency == 0 {
		p.Concurrency = DefaultConcurrency
	}
	return p, nil
}

// call is one request of a phase, ready to send.
type call struct {
	entry              int
	method, path, body string
	header             http.Header
}

func (c call) String() string { return c.method + " " + c.path }

// calls lists n requests of each entry, interleaved entry by entry, each checked the way
// the client will build it.
func (p Plan) calls(n int) ([]call, error) {
	out := make([]call, 0, n*len(p.Requests))
	for i := 0; i < n; i++ {
		for e, rq := range p.Requests {
			if rq.Each != nil {
				rq = rq.Each(i)
			}
			c := call{entry: e, method: rq.Method, path: rq.Path, body: rq.Body, header: rq.Header}
			if c.method == "" {
				c.method = http.MethodGet
			}
			if !strings.HasPrefix(c.path, "/") {
				return nil, fmt.Errorf("Requests[%d] (request %d): path %q does not start with /", e, i, c.path)
			}
			if _, err := http.NewRequest(c.method, "http://127.0.0.1"+c.path, nil); err != nil {
				return nil, fmt.Errorf("Requests[%d] (request %d): %v", e, i, err)
			}
			out = append(out, c)
		}
	}
	return out, nil
}

// drive sends every call with the given number of concurrent clients; each client takes
// the next call from a shared counter, so every call is sent exactly once and in order.
// After the first failure the clients stop; drive returns the failures.
func drive(client *http.Client, base string, calls []call, clients int) []error {
	var (
		next   atomic.Int64
		failed atomic.Bool
		mu     sync.Mutex
		errs   []error
		wg     sync.WaitGroup
	)
	for c := 0; c < clients && c < len(calls); c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= len(calls) {
					return
				}
				if err := send(client, base, calls[i]); err != nil {
					failed.Store(true)
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return errs
}

func send(client *http.Client, base string, c call) error {
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req, err := http.NewRequest(c.method, base+c.path, body)
	if err != nil {
		return fmt.Errorf("Requests[%d]: %s: %v", c.entry, c, err)
	}
	if c.header != nil {
		req.Header = c.header.Clone()
		if host := req.Header.Get("Host"); host != "" {
			req.Host = host
		}
	}
	if c.body != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return fmt.Errorf("Requests[%d]: %s: %v", c.entry, c, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		start, _ := io.ReadAll(io.LimitReader(resp.Body, maxExcerpt+1))
		return fmt.Errorf("Requests[%d]: %s: status %s: %s", c.entry, c, resp.Status, excerpt(start))
	}
	// Read the whole body, so that the connection is reused.
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return fmt.Errorf("Requests[%d]: %s: reading the body: %v", c.entry, c, err)
	}
	return nil
}

// excerpt shows the start of a response body on one line.
func excerpt(b []byte) string {
	more := len(b) > maxExcerpt
	if more {
		b = b[:maxExcerpt] // a character cut in two shows as U+FFFD
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "(empty body)"
	}
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(b), "\uFFFD")), " ")
	if more {
		s += " …"
	}
	return s
}

// failed reports the failures of a phase, if any, and ends the test.
func failed(t testing.TB, phase string, errs []error) bool {
	t.Helper()
	if len(errs) == 0 {
		return false
	}
	for _, err := range errs {
		t.Errorf("perftest: %s: %v", phase, err)
	}
	t.FailNow()
	return true
}

// closeServer shuts the server down, waiting a bounded time for handlers still running.
func closeServer(t testing.TB, ts *httptest.Server) {
	done := make(chan struct{})
	go func() {
		ts.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(closeTimeout):
		t.Logf("perftest: a handler was still running %v after the load ended; not waiting for it", closeTimeout)
	}
}
