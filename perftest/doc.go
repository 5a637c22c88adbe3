// Package perftest puts a Go HTTP service under perfgate in a few lines: Trace makes every
// handler call one runtime/trace task named after its route, and Run drives the service
// with a fixed, interleaved load from concurrent clients, with a warm-up kept out of the
// measurement.
//
// perfgate reads each task's duration from an execution trace as one request's latency,
// computes the p95 per task name and compares it with a committed baseline. What the
// numbers mean depends on details this package takes care of: task names are exactly the
// http.ServeMux pattern that matched ("GET /items/{id}"), so they are the same in every
// run and every commit; a task begins just before the handler runs and ends when it
// returns, so the test client's work is never inside one; warm-up requests create no task;
// and every route gets the same number of requests in every run.
//
// A complete perf test:
//
//	func TestPerfItems(t *testing.T) {
//		mux := http.NewServeMux()
//		mux.HandleFunc("GET /items/{id}", getItem)
//		mux.HandleFunc("POST /items", createItem)
//		perftest.Run(t, perftest.Trace(mux), perftest.Plan{
//			Requests: []perftest.Request{
//				{Method: "GET", Path: "/items/42"},
//				{Method: "POST", Path: "/items", Body: `{"name": "lamp"}`},
//			},
//		})
//	}
//
// perfgate runs it several times, each run its own process under the execution tracer:
//
//	go test -count=1 -run '^TestPerfItems$' -trace=run.trace ./items
//
// and its perfgate.toml names the package and the test:
//
//	[[targets]]
//	name = "items"
//	package = "./items"
//	run = "^TestPerfItems$"
//
// Regions inside a handler (trace.WithRegion(r.Context(), "query", …)) mark its phases;
// perfgate uses them to say where a slower handler spends the extra time.
//
// Work that is not an HTTP request — a queue worker, a gRPC method, a batch job — is named
// with Task, and a perf test of one's own keeps its warm-up calls out of the measurement
// by passing them a context made with Warmup.
//
// Trace is cheap enough to stay in the production handler: when tracing is off it only
// calls the handler it wraps.
package perftest
