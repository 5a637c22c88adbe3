// Package pricing prices products through an LRU cache in front of an expensive pricing
// model: a hit costs microseconds, a miss runs the model (sha256 chains and a sort over
// hundreds of price points, ~100 µs), so latencies are bimodal.
//
// Noise: bimodal latencies whose p95 sits in the miss mode; the hit/miss mix shifts with
// request interleaving; the LRU's mutex is shared by every request.
package pricing

import (
	"container/list"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/perfgate/perfgate/bench/zoo/zoo"
)

// Routes are the service's route patterns, in registration order.
var Routes = []string{
	"GET /prices/{sku}",
	"POST /quotes",
	"GET /rates/{currency}",
}

const (
	numSKUs       = 1500
	cacheCapacity = 600
	modelPoints   = 800
	modelRounds   = 300
)

// SKU is the i-th product code.
func SKU(i int) string { return fmt.Sprintf("P%05d", i%numSKUs) }

type price struct {
	SKU      string  `json:"sku"`
	Cents    int64   `json:"cents"`
	Low      int64   `json:"low"`
	High     int64   `json:"high"`
	Strategy string  `json:"strategy"`
	Elastic  float64 `json:"elasticity"`
}

// lru is a fixed-capacity least-recently-used cache guarded by one mutex.
type lru struct {
	mu    sync.Mutex
	cap   int
	order *list.List
	items map[string]*list.Element
}

type lruEntry struct {
	key string
	val price
}

func newLRU(n int) *lru { return &lru{cap: n, order: list.New(), items: map[string]*list.Element{}} }

func (c *lru) get(key string) (price, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		c.order.MoveToFront(e)
		return e.Value.(*lruEntry).val, true
	}
	return price{}, false
}

func (c *lru) put(key string, v price) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		e.Value.(*lruEntry).val = v
		c.order.MoveToFront(e)
		return
	}
	c.items[key] = c.order.PushFront(&lruEntry{key, v})
	if c.order.Len() > c.cap {
		old := c.order.Back()
		c.order.Remove(old)
		delete(c.items, old.Value.(*lruEntry).key)
	}
}

// model computes a price: a sha256 chain seeds modelPoints demand samples, which are sorted
// to take percentiles.
func model(sku string) price {
	sum := sha256.Sum256([]byte(sku))
	points := make([]float64, modelPoints)
	for r := 0; r < modelRounds; r++ {
		sum = sha256.Sum256(sum[:])
	}
	for i := range points {
		if i%8 == 0 {
			sum = sha256.Sum256(sum[:])
		}
		v := binary.LittleEndian.Uint32(sum[(i%8)*4:])
		points[i] = 500 + float64(v%100000)/10 + math.Sin(float64(i))*50
	}
	sort.Float64s(points)
	p := price{
		SKU:   sku,
		Cents: int64(points[len(points)/2]),
		Low:   int64(points[len(points)/10]),
		High:  int64(points[len(points)*9/10]),
	}
	p.Elastic = (points[len(points)*3/4] - points[len(points)/4]) / points[len(points)/2]
	p.Strategy = "standard"
	if p.Elastic > 0.9 {
		p.Strategy = "premium"
	}
	return p
}

// Server is the pricing service.
type Server struct {
	*zoo.Mux
	slow  zoo.Slowdowns
	cache *lru
	rates map[string]float64
}

// New builds the service with an empty cache and the ZOO_SLOW knobs.
func New() (*Server, error) {
	slow, err := zoo.SlowdownsFor(Routes)
	if err != nil {
		return nil, err
	}
	s := &Server{Mux: zoo.NewMux(), slow: slow, cache: newLRU(cacheCapacity),
		rates: map[string]float64{"EUR": 1, "USD": 1.08, "GBP": 0.86, "JPY": 161.2, "CHF": 0.97, "SEK": 11.4}}
	s.Handle(Routes[0], s.getPrice)
	s.Handle(Routes[1], s.quote)
	s.Handle(Routes[2], s.getRate)
	return s, nil
}

func (s *Server) lookup(sku string) price {
	if p, ok := s.cache.get(sku); ok {
		return p
	}
	p := model(sku)
	s.cache.put(sku, p)
	return p
}

func (s *Server) getPrice(w http.ResponseWriter, r *http.Request) {
	sku := r.PathValue("sku")
	if !strings.HasPrefix(sku, "P") {
		zoo.Error(w, http.StatusNotFound, "no such sku")
		return
	}
	var p price
	zoo.Phase(r.Context(), "price", s.slow[Routes[0]], func() { p = s.lookup(sku) })
	zoo.WriteJSON(w, http.StatusOK, p)
}

type quoteRequest struct {
	Currency string `json:"currency"`
	Lines    []struct {
		SKU string `json:"sku"`
		Qty int    `json:"qty"`
	} `json:"lines"`
}

func (s *Server) quote(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var q quoteRequest
	if err := json.NewDecoder(r.Body).Decode(&q); err != nil {
		zoo.Error(w, http.StatusBadRequest, err.Error())
		return
	}
	rate, ok := s.rates[q.Currency]
	if !ok {
		zoo.Error(w, http.StatusBadRequest, "unknown currency")
		return
	}
	var total float64
	lines := make([]map[string]any, 0, len(q.Lines))
	zoo.Phase(ctx, "price", s.slow[Routes[1]], func() {
		for _, l := range q.Lines {
			p := s.lookup(l.SKU)
			amount := float64(p.Cents*int64(l.Qty)) * rate
			total += amount
			lines = append(lines, map[string]any{"sku": l.SKU, "qty": l.Qty, "amount": math.Round(amount)})
		}
	})
	zoo.WriteJSON(w, http.StatusOK, map[string]any{"currency": q.Currency, "total": math.Round(total), "lines": lines})
}

func (s *Server) getRate(w http.ResponseWriter, r *http.Request) {
	cur := r.PathValue("currency")
	var body map[string]any
	zoo.Phase(r.Context(), "rate", s.slow[Routes[2]], func() {
		rate, ok := s.rates[cur]
		if !ok {
			return
		}
		cross := make(map[string]float64, len(s.rates))
		for k, v := range s.rates {
			cross[k] = math.Round(v/rate*1e6) / 1e6
		}
		body = map[string]any{"base": cur, "cross": cross}
	})
	if body == nil {
		zoo.Error(w, http.StatusNotFound, "no such currency")
		return
	}
	zoo.WriteJSON(w, http.StatusOK, body)
}
