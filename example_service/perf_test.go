// How perfgate uses this test
//
// perfgate measures the service by running this test several times, one process per run:
//
//	go test -count=1 -run '^TestPerfExampleService$' -trace=RUN.trace ./example_service
//
// go test -trace traces the whole test binary. In it, every handler call of the measured
// phase is one runtime/trace task named after its route pattern ("GET /orders/{id}"): the
// service's handler is wrapped in perftest.Trace (server.go), which begins the task just
// before the handler runs and ends it when the handler returns. perfgate takes each task's
// duration as one request's latency, computes p95 per task name, and compares it with
// baselines/example_service.json. Regions inside a task ("decode", "price", "authorize",
// "store", "encode", ...) show where the time went.
//
// perftest.Run drives a real httptest.Server (loopback) with perfWorkers concurrent
// clients in two phases:
//
//  1. Warm-up: perfWarmupPerRoute requests per route, served without a task (perftest
//     marks them with perftest.Warmup): they fill the buffer pools, grow the heap and open
//     the keep-alive connections, and leave no latency in the trace. (Their regions, if
//     any, belong to no task.)
//  2. Measured: after a runtime.GC, perfRequestsPerRoute requests per route, interleaved
//     route by route. A passing run leaves exactly perfRequestsPerRoute complete tasks per
//     route in the trace; any answer outside 2xx fails the test.
//
// What is particular to this service is below: which requests each route gets. Request
// counts and the work behind each request are fixed (deterministic catalog, orders and
// carts; CPU work, not timers), so run-to-run noise is mostly the machine's. A run takes
// well under a second on 2 cores. Under -short the test is skipped.
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
// the package outside this module can drop that file, and needs only the perftest package
// (github.com/perfgate/perfgate/perftest) from this repository.
package main

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/perfgate/perfgate/perftest"
)

const (
	perfRequestsPerRoute = 600 // measured requests (= trace tasks) per route per run
	perfWarmupPerRoute   = 100 // untraced warm-up requests per route
	perfWorkers          = 4   // concurrent clients
)

// perfCarts are the checkout bodies, used in turn: 2 to 5 lines, some with a coupon.
var perfCarts = func() []string {
	cat := newCatalog(catalogSize)
	carts := make([]string, 8)
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
		carts[c] = string(body)
	}
	return carts
}()

// perfProfiles says, per route, what its i-th request of a phase is. Every route must
// have one: TestPerfExampleService fails on a route without.
var perfProfiles = map[string]func(i int) perftest.Request{
	"GET /healthz": func(int) perftest.Request {
		return perftest.Request{Method: "GET", Path: "/healthz"}
	},
	"GET /products": func(i int) perftest.Request {
		// Full pages of 100 products from four offsets.
		return perftest.Request{Method: "GET", Path: fmt.Sprintf("/products?limit=100&offset=%d", (i%4)*100)}
	},
	"GET /orders/{id}": func(i int) perftest.Request {
		// Seeded orders (3 to 12 lines), spread over the store.
		return perftest.Request{Method: "GET", Path: "/orders/" + orderID(1+(i*37)%1000)}
	},
	"POST /checkout": func(i int) perftest.Request {
		return perftest.Request{Method: "POST", Path: "/checkout", Body: perfCarts[i%len(perfCarts)]}
	},
}

func TestPerfExampleService(t *testing.T) {
	if testing.Short() {
		t.Skip("perf test skipped in -short mode")
	}
	var load []perftest.Request
	for _, r := range Routes() {
		profile, ok := perfProfiles[r]
		if !ok {
			t.Fatalf("route %q has no load profile: add one to perfProfiles in perf_test.go", r)
		}
		load = append(load, perftest.Request{Each: profile})
	}

	s := NewServer(Options{SeedOrders: 1000})
	defer s.Close()
	perftest.Run(t, s.Handler(), perftest.Plan{
		Requests:    load,
		PerRoute:    perfRequestsPerRoute,
		Warmup:      perfWarmupPerRoute,
		Concurrency: perfWorkers,
	})
}
