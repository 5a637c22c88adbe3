package main

import (
	"net/http"
	"time"

	"github.com/perfgate/perfgate/perftest"
)

// route is one entry of the service's API. The pattern is both the http.ServeMux pattern
// and, through perftest.Trace, the name of the runtime/trace task that wraps every call of
// the handler, so it is the handler's name in perfgate's baselines.
type route struct {
	pattern string
	handle  func(*Server, http.ResponseWriter, *http.Request)
}

// routeTable is the whole API. Handler registers exactly these routes, and Routes lists
// them; a new route needs a baseline entry (see routes_baseline_test.go) and a load
// profile in the perf test (perf_test.go).
var routeTable = []route{
	{"GET /healthz", (*Server).handleHealthz},
	{"GET /products", (*Server).handleProducts},
	{"GET /orders/{id}", (*Server).handleGetOrder},
	{"POST /checkout", (*Server).handleCheckout},
}

// Routes returns the route patterns the service registers, in registration order.
func Routes() []string {
	patterns := make([]string, len(routeTable))
	for i, rt := range routeTable {
		patterns[i] = rt.pattern
	}
	return patterns
}

// Options configure a Server. The zero value is the production configuration.
type Options struct {
	// PaymentWorkers is the size of the simulated payment gateway's worker pool
	// (default 4).
	PaymentWorkers int
	// SeedOrders is the number of orders the store starts with (default 1000).
	SeedOrders int
}

// Server is the example shop API: a product catalog, an order store and a checkout that
// prices carts and authorizes payments with a (simulated) downstream gateway.
type Server struct {
	opts    Options
	started time.Time
	catalog *catalog
	orders  *orderStore
	payment *paymentGateway
}

// NewServer builds a server with its catalog and seeded order store and starts the
// payment gateway's workers; Close stops them.
func NewServer(opts Options) *Server {
	if opts.PaymentWorkers <= 0 {
		opts.PaymentWorkers = 4
	}
	if opts.SeedOrders <= 0 {
		opts.SeedOrders = 1000
	}
	cat := newCatalog(catalogSize)
	return &Server{
		opts:    opts,
		started: time.Now(),
		catalog: cat,
		orders:  seedOrders(cat, opts.SeedOrders),
		payment: newPaymentGateway(opts.PaymentWorkers),
	}
}

// Close stops the payment gateway. Requests still in checkout fail with 503.
func (s *Server) Close() { s.payment.close() }

// Handler returns the service's HTTP handler: a ServeMux with every route of routeTable,
// wrapped in perftest.Trace so that each handler call is one runtime/trace task named after
// its pattern. Handlers mark their phases with regions on the request's context, which
// carries the task.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range routeTable {
		handle := rt.handle
		mux.HandleFunc(rt.pattern, func(w http.ResponseWriter, r *http.Request) { handle(s, w, r) })
	}
	return perftest.Trace(mux)
}
