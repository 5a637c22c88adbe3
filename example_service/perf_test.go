// How perfgate uses this test
//
// perfgate measures the service by running this test several times, one process per run:
//
//	go test -count=1 -run '^TestPerfExampleService$' -trace=RUN.trace ./example_service
//
// go test -trace traces the whole test binary. In it, every handler call of the measured
// phase is one runtime/trace task named after its route pattern ("GET /orders/{id}"; see
// middleware.go), begun just before the handler runs and ended when it returns. perfgate
// takes each task's duration as one request's latency, computes p95 per task name, and
// compares it with baselines/example_service.json. Regions inside a task ("decode",
// "price", "authorize", "store", "encode", ...) show where the time went.
//
// The test drives a real httptest.Server (loopback) with perfWorkers concurrent clients
// in two phases:
//
//  1. Warm-up: perfWarmupPerRoute requests per route, each carrying WarmupHeader. The
//     server is built with Options.HonorWarmupHeader, so the middleware serves them without
//     a task: they fill the buffer pools, grow the heap and open the keep-alive connections,
//     and leave no latency in the trace. (Their regions, if any, belong to no task.)
//  2. Measured: after a runtime.GC, perfRequestsPerRoute requests per route, interleaved
//     route by route. A passing run leaves exactly perfRequestsPerRoute complete tasks per
//     route in the trace; any unexpected status fails the test.
//
// Request counts and the work behind each request are fixed (deterministic catalog, orders
// and carts; CPU work, not timers), so run-to-run noise is mostly the machine's. A run
// takes well under a second on 2 cores. Under -short the test is skipped.
//
// Making one handler slower: each handler's own cost sits in one function, so a test can
// edit a copy of this package and add work at the top of exactly one of them, e.g. a busy
// loop `for t0 := time.Now(); time.Since(t0) < 100*time.Microsecond; {}` (each of these
// files already imports "time"):
//
//	GET /healthz      (*Server).checkHealth  health.go
//	GET /products     renderProducts         products.go
//	GET /orders/{id}  renderOrder            orders.go
//	POST /checkout    priceCart              checkout.go
//
// Only routes_baseline_test.go imports github.com/perfgate/perfgate/baselines; a copy of
// the package outside this module can drop that file and needs no other part of the repo.
package main

import (
	"bytes"
	"encoding/json"
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

const (
	perfRequestsPerRoute = 600 // measured requests (= trace tasks) per route per run
	perfWarmupPerRoute   = 100 // untraced warm-up requests per route
	perfWorkers          = 4   // concurrent clients
)

// perfRequest is one request of the load, and the status it must get.
type perfRequest struct {
	method string
	path   string
	body   []byte
	want   int
}

// perfCarts are the checkout bodies, used in turn: 2 to 5 lines, some with a coupon.
var perfCarts = func() [][]byte {
	cat := newCatalog(catalogSize)
	carts := make([][]byte, 8)
	for c := range carts {
		req := checkoutRequest{CustomerID: fmt.Sprintf("cust-%04d", 500+c), PaymentToken: "tok_visa"}
		for l := 0; l < 2+c%4; l++ {
			p := cat.products[(c*53+l*29)%len(cat.products)]
			req.Items = append(req.Items, cartItem{SKU: p.SKU, Qty: 1 + (c+l*5)%12})
		}
		if c%3 == 0 {
			req.Coupon = "SPRING10"
		}
		body, err := json.Marshal(req)
		if err != nil {
			panic(err)
		}
		carts[c] = body
	}
	return carts
}()

// perfProfiles says, per route, what its i-th request of a phase is. Every route must
// have one: TestPerfExampleService fails on a route without.
var perfProfiles = map[string]func(i int) perfRequest{
	"GET /healthz": func(int) perfRequest {
		return perfRequest{"GET", "/healthz", nil, http.StatusOK}
	},
	"GET /products": func(i int) perfRequest {
		// Full pages of 100 products from four offsets.
		return perfRequest{"GET", fmt.Sprintf("/products?limit=100&offset=%d", (i%4)*100), nil, http.StatusOK}
	},
	"GET /orders/{id}": func(i int) perfRequest {
		// Seeded orders (3 to 12 lines), spread over the store.
		return perfRequest{"GET", "/orders/" + orderID(1+(i*37)%1000), nil, http.StatusOK}
	},
	"POST /checkout": func(i int) perfRequest {
		return perfRequest{"POST", "/checkout", perfCarts[i%len(perfCarts)], http.StatusCreated}
	},
}

// perfPlan lists n requests per route, interleaved: route 1, route 2, ..., route 1, ...
func perfPlan(t *testing.T, n int) []perfRequest {
	t.Helper()
	routes := Routes()
	plan := make([]perfRequest, 0, n*len(routes))
	for i := 0; i < n; i++ {
		for _, r := range routes {
			profile, ok := perfProfiles[r]
			if !ok {
				t.Fatalf("route %q has no load profile: add one to perfProfiles in perf_test.go", r)
			}
			plan = append(plan, profile(i))
		}
	}
	return plan
}

func TestPerfExampleService(t *testing.T) {
	if testing.Short() {
		t.Skip("perf test skipped in -short mode")
	}
	if !trace.IsEnabled() {
		t.Log("tracing is off: the load runs, but no latencies are recorded (perfgate runs this test with -trace)")
	}

	s := NewServer(Options{HonorWarmupHeader: true, SeedOrders: 1000})
	defer s.Close()
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: perfWorkers, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}

	warmup := perfPlan(t, perfWarmupPerRoute)
	measured := perfPlan(t, perfRequestsPerRoute)

	start := time.Now()
	if !runPerfPhase(t, client, ts.URL, warmup, true) {
		t.FailNow()
	}
	warmupTime := time.Since(start)

	runtime.GC() // every run's measured phase starts from the same, clean heap
	start = time.Now()
	if !runPerfPhase(t, client, ts.URL, measured, false) {
		t.FailNow()
	}
	t.Logf("warm-up: %d requests in %v; measured: %d requests (%d per route, %d routes, %d workers) in %v",
		len(warmup), warmupTime.Round(time.Millisecond), len(measured), perfRequestsPerRoute,
		len(Routes()), perfWorkers, time.Since(start).Round(time.Millisecond))
}

// runPerfPhase sends every request of plan with perfWorkers concurrent clients and
// reports whether all got their expected status. Workers take the next request from a
// shared counter, so each request is sent exactly once.
func runPerfPhase(t *testing.T, client *http.Client, base string, plan []perfRequest, warmup bool) bool {
	t.Helper()
	var (
		next   atomic.Int64
		failed atomic.Bool
		mu     sync.Mutex
		errs   []error
		wg     sync.WaitGroup
	)
	for w := 0; w < perfWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= len(plan) {
					return
				}
				if err := sendPerfRequest(client, base, plan[i], warmup); err != nil {
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
	for _, err := range errs {
		t.Error(err)
	}
	return len(errs) == 0
}

func sendPerfRequest(client *http.Client, base string, pr perfRequest, warmup bool) error {
	var body io.Reader
	if pr.body != nil {
		body = bytes.NewReader(pr.body)
	}
	req, err := http.NewRequest(pr.method, base+pr.path, body)
	if err != nil {
		return err
	}
	if pr.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if warmup {
		req.Header.Set(WarmupHeader, "1")
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", pr.method, pr.path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != pr.want {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s %s: status %d, want %d: %s", pr.method, pr.path, resp.StatusCode, pr.want, msg)
	}
	// Read the whole body so the connection is reused.
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return fmt.Errorf("%s %s: reading the body: %w", pr.method, pr.path, err)
	}
	return nil
}
