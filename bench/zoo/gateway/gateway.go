// Package gateway is an API gateway in front of a slow backend: handlers wait on a
// simulated backend whose fixed pool of worker goroutines serves calls from a queue, each
// call taking a seeded time (a timer), so requests queue when the pool is busy.
//
// Noise: I/O-like waits (timers, channel hand-offs, goroutine wake-ups), queueing behind a
// bounded pool, and fan-out (a portfolio fetches its positions in parallel).
package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime/trace"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/perfgate/perfgate/bench/zoo/zoo"
)

// Routes are the service's route patterns, in registration order.
var Routes = []string{
	"GET /quotes/{sym}",
	"GET /portfolio/{id}",
	"POST /orders",
	"GET /status",
}

const (
	backendWorkers = 8
	numSymbols     = 64
)

// Symbol is the i-th ticker symbol.
func Symbol(i int) string { return fmt.Sprintf("SYM%02d", i%numSymbols) }

type call struct {
	op    string
	key   string
	delay time.Duration
	reply chan result
}

type result struct {
	priceCents int64
	err        error
}

// backend is the simulated remote service: backendWorkers goroutines, one queue; each call
// blocks its worker for the call's delay (zoo.Sleep) and answers on a channel.
type backend struct {
	calls chan call
	wg    sync.WaitGroup
}

func newBackend() *backend {
	b := &backend{calls: make(chan call, 256)}
	for i := 0; i < backendWorkers; i++ {
		b.wg.Add(1)
		go b.worker()
	}
	return b
}

func (b *backend) worker() {
	defer b.wg.Done()
	for c := range b.calls {
		zoo.Sleep(c.delay) // the remote side's time: the worker's thread blocks, as in a read
		h := zoo.Mix64(uint64(len(c.key))<<8 ^ uint64(c.key[len(c.key)-1]))
		c.reply <- result{priceCents: int64(1000 + h%90000)}
	}
}

// do sends one call and waits for its answer; the delay is seeded by the key: most calls
// take 60–160 µs, one key in ten 400 µs.
func (b *backend) do(ctx context.Context, op, key string) (int64, error) {
	h := zoo.Mix64(uint64(len(op)) ^ hashString(key))
	delay := time.Duration(60+h%100) * time.Microsecond
	if h%10 == 0 {
		delay = 400 * time.Microsecond
	}
	c := call{op: op, key: key, delay: delay, reply: make(chan result, 1)}
	var res result
	trace.WithRegion(ctx, "backend."+op, func() {
		b.calls <- c
		res = <-c.reply
	})
	return res.priceCents, res.err
}

func (b *backend) close() {
	close(b.calls)
	b.wg.Wait()
}

func hashString(s string) uint64 {
	var h uint64 = 14695981039346656037
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	return h
}

// Server is the gateway service.
type Server struct {
	*zoo.Mux
	slow    zoo.Slowdowns
	backend *backend

	mu     sync.Mutex
	orders int
}

// New starts the simulated backend and builds the service with the ZOO_SLOW knobs.
func New() (*Server, error) {
	slow, err := zoo.SlowdownsFor(Routes)
	if err != nil {
		return nil, err
	}
	s := &Server{Mux: zoo.NewMux(), slow: slow, backend: newBackend()}
	s.Handle(Routes[0], s.quote)
	s.Handle(Routes[1], s.portfolio)
	s.Handle(Routes[2], s.placeOrder)
	s.Handle(Routes[3], s.status)
	return s, nil
}

// Close stops the backend's workers.
func (s *Server) Close() { s.backend.close() }

type quote struct {
	Symbol string  `json:"symbol"`
	Cents  int64   `json:"cents"`
	Spread float64 `json:"spread"`
	Venue  string  `json:"venue"`
}

func (s *Server) quote(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sym := r.PathValue("sym")
	cents, err := s.backend.do(ctx, "quote", sym)
	if err != nil {
		zoo.Error(w, http.StatusBadGateway, err.Error())
		return
	}
	var q quote
	zoo.Phase(ctx, "enrich", s.slow[Routes[0]], func() {
		q = quote{Symbol: strings.ToUpper(sym), Cents: cents, Spread: float64(cents%97) / 1000, Venue: "XNAS"}
		if hashString(sym)%3 == 0 {
			q.Venue = "XNYS"
		}
	})
	zoo.WriteJSON(w, http.StatusOK, q)
}

type position struct {
	Symbol string `json:"symbol"`
	Qty    int    `json:"qty"`
	Cents  int64  `json:"cents"`
	Value  int64  `json:"value"`
}

func (s *Server) portfolio(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	h := hashString(id)
	n := 3 + int(h%4) // 3..6 positions, priced in parallel
	positions := make([]position, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	trace.WithRegion(ctx, "fanout", func() {
		for i := 0; i < n; i++ {
			positions[i] = position{Symbol: Symbol(int(zoo.Mix64(h+uint64(i)) % numSymbols)), Qty: 1 + int(zoo.Mix64(h^uint64(i))%200)}
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				positions[i].Cents, errs[i] = s.backend.do(ctx, "quote", positions[i].Symbol)
			}(i)
		}
		wg.Wait()
	})
	for _, err := range errs {
		if err != nil {
			zoo.Error(w, http.StatusBadGateway, err.Error())
			return
		}
	}
	var total int64
	var report []byte
	zoo.Phase(ctx, "valuate", s.slow[Routes[1]], func() {
		for i := range positions {
			positions[i].Value = positions[i].Cents * int64(positions[i].Qty)
			total += positions[i].Value
		}
		sort.Slice(positions, func(a, b int) bool { return positions[a].Value > positions[b].Value })
		report, _ = json.Marshal(map[string]any{"id": id, "total": total, "positions": positions})
	})
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(report)
}

type order struct {
	Symbol string `json:"symbol"`
	Side   string `json:"side"`
	Qty    int    `json:"qty"`
	Limit  int64  `json:"limit_cents"`
}

func (s *Server) placeOrder(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var o order
	var verr error
	zoo.Phase(ctx, "validate", s.slow[Routes[2]], func() {
		if err := json.NewDecoder(r.Body).Decode(&o); err != nil {
			verr = err
			return
		}
		switch {
		case o.Side != "buy" && o.Side != "sell":
			verr = fmt.Errorf("side must be buy or sell")
		case o.Qty <= 0 || o.Qty > 10000:
			verr = fmt.Errorf("qty out of range")
		case !strings.HasPrefix(o.Symbol, "SYM"):
			verr = fmt.Errorf("unknown symbol")
		}
	})
	if verr != nil {
		zoo.Error(w, http.StatusBadRequest, verr.Error())
		return
	}
	// Two sequential backend calls: reserve, then confirm.
	if _, err := s.backend.do(ctx, "reserve", o.Symbol); err != nil {
		zoo.Error(w, http.StatusBadGateway, err.Error())
		return
	}
	cents, err := s.backend.do(ctx, "confirm", o.Symbol)
	if err != nil {
		zoo.Error(w, http.StatusBadGateway, err.Error())
		return
	}
	s.mu.Lock()
	s.orders++
	n := s.orders
	s.mu.Unlock()
	zoo.WriteJSON(w, http.StatusCreated, map[string]any{"order": n, "fill_cents": cents, "qty": o.Qty})
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	zoo.Phase(r.Context(), "status", s.slow[Routes[3]], func() {
		s.mu.Lock()
		n := s.orders
		s.mu.Unlock()
		body = map[string]any{"ok": true, "orders": n, "queue": len(s.backend.calls), "workers": backendWorkers}
	})
	zoo.WriteJSON(w, http.StatusOK, body)
}
