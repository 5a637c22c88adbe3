// Package catalog is a product catalog API with microsecond handlers: map lookups under a
// shared RWMutex, small JSON bodies, and stock updates that take the write lock.
//
// Noise: microsecond latencies (loopback and scheduler jitter are a large share), reader /
// writer contention on the one catalog lock.
package catalog

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"sync"

	"github.com/perfgate/perfgate/bench/zoo/zoo"
)

// Routes are the service's route patterns, in registration order.
var Routes = []string{
	"GET /items/{id}",
	"GET /items",
	"PUT /items/{id}/stock",
	"GET /categories/{name}/summary",
}

const catalogSize = 2000

var categoryNames = []string{"audio", "books", "garden", "kitchen", "office", "outdoor", "toys", "video"}

// Item is one product.
type Item struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Category   string   `json:"category"`
	PriceCents int64    `json:"price_cents"`
	Stock      int      `json:"stock"`
	Tags       []string `json:"tags"`
}

// Server is the catalog service.
type Server struct {
	*zoo.Mux
	slow zoo.Slowdowns

	mu         sync.RWMutex
	items      map[string]*Item
	sorted     []string            // item ids in order
	byCategory map[string][]string // category -> ids
}

// New builds the service with a seeded catalog and the ZOO_SLOW knobs.
func New() (*Server, error) {
	slow, err := zoo.SlowdownsFor(Routes)
	if err != nil {
		return nil, err
	}
	s := &Server{Mux: zoo.NewMux(), slow: slow, items: map[string]*Item{}, byCategory: map[string][]string{}}
	for i := 0; i < catalogSize; i++ {
		h := zoo.Mix64(uint64(i))
		it := &Item{
			ID:         ItemID(i),
			Name:       fmt.Sprintf("Item %d-%x", i, h&0xfff),
			Category:   categoryNames[h%uint64(len(categoryNames))],
			PriceCents: int64(99 + (h>>8)%50000),
			Stock:      int((h >> 24) % 500),
		}
		for t := 0; t < int(1+(h>>40)%3); t++ {
			it.Tags = append(it.Tags, []string{"new", "sale", "gift", "eco", "bundle"}[(int(h>>44)+t)%5])
		}
		s.items[it.ID] = it
		s.sorted = append(s.sorted, it.ID)
		s.byCategory[it.Category] = append(s.byCategory[it.Category], it.ID)
	}
	sort.Strings(s.sorted)
	s.Handle(Routes[0], s.getItem)
	s.Handle(Routes[1], s.listItems)
	s.Handle(Routes[2], s.putStock)
	s.Handle(Routes[3], s.categorySummary)
	return s, nil
}

// ItemID is the id of the i-th seeded item.
func ItemID(i int) string { return fmt.Sprintf("it-%05d", i) }

func (s *Server) getItem(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var it Item
	var related []Item
	var ok bool
	zoo.Phase(ctx, "lookup", s.slow[Routes[0]], func() {
		s.mu.RLock()
		defer s.mu.RUnlock()
		p, found := s.items[r.PathValue("id")]
		if !found {
			return
		}
		it, ok = *p, true
		it.Tags = append([]string(nil), p.Tags...)
		// Four related items: same category, nearest in price among a seeded sample.
		peers := s.byCategory[p.Category]
		for i := 0; i < 16 && len(related) < 4; i++ {
			q := s.items[peers[int(zoo.Mix64(uint64(p.PriceCents)+uint64(i))%uint64(len(peers)))]]
			if q.ID != p.ID && q.Stock > 0 {
				related = append(related, *q)
			}
		}
	})
	if !ok {
		zoo.Error(w, http.StatusNotFound, "no such item")
		return
	}
	zoo.Phase(ctx, "encode", nil, func() {
		zoo.WriteJSON(w, http.StatusOK, map[string]any{"item": it, "related": related})
	})
}

func (s *Server) listItems(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
	limit, err := strconv.Atoi(r.URL.Query().Get("limit"))
	if err != nil || limit <= 0 || limit > 100 {
		limit = 20
	}
	var page []Item
	zoo.Phase(ctx, "page", s.slow[Routes[1]], func() {
		s.mu.RLock()
		defer s.mu.RUnlock()
		if offset < 0 || offset > len(s.sorted) {
			offset = len(s.sorted)
		}
		end := min(offset+limit, len(s.sorted))
		page = make([]Item, 0, end-offset)
		for _, id := range s.sorted[offset:end] {
			page = append(page, *s.items[id])
		}
	})
	zoo.Phase(ctx, "encode", nil, func() {
		zoo.WriteJSON(w, http.StatusOK, map[string]any{"offset": offset, "items": page})
	})
}

type stockUpdate struct {
	Delta  int    `json:"delta"`
	Reason string `json:"reason"`
}

func (s *Server) putStock(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var u stockUpdate
	if err := json.NewDecoder(r.Body).Decode(&u); err != nil {
		zoo.Error(w, http.StatusBadRequest, err.Error())
		return
	}
	var stock int
	found := false
	zoo.Phase(ctx, "update", s.slow[Routes[2]], func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		it, ok := s.items[r.PathValue("id")]
		if !ok {
			return
		}
		found = true
		it.Stock += u.Delta
		if it.Stock < 0 {
			it.Stock = 0
		}
		stock = it.Stock
	})
	if !found {
		zoo.Error(w, http.StatusNotFound, "no such item")
		return
	}
	zoo.WriteJSON(w, http.StatusOK, map[string]any{"id": r.PathValue("id"), "stock": stock})
}

type summary struct {
	Category string  `json:"category"`
	Items    int     `json:"items"`
	InStock  int     `json:"in_stock"`
	MinCents int64   `json:"min_cents"`
	MaxCents int64   `json:"max_cents"`
	AvgCents float64 `json:"avg_cents"`
}

func (s *Server) categorySummary(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	name := r.PathValue("name")
	sum := summary{Category: name}
	zoo.Phase(ctx, "scan", s.slow[Routes[3]], func() {
		s.mu.RLock()
		defer s.mu.RUnlock()
		var total int64
		for _, id := range s.byCategory[name] {
			it := s.items[id]
			if sum.Items == 0 || it.PriceCents < sum.MinCents {
				sum.MinCents = it.PriceCents
			}
			if it.PriceCents > sum.MaxCents {
				sum.MaxCents = it.PriceCents
			}
			if it.Stock > 0 {
				sum.InStock++
			}
			total += it.PriceCents
			sum.Items++
		}
		if sum.Items > 0 {
			sum.AvgCents = float64(total) / float64(sum.Items)
		}
	})
	if sum.Items == 0 {
		zoo.Error(w, http.StatusNotFound, "no such category")
		return
	}
	zoo.WriteJSON(w, http.StatusOK, sum)
}
