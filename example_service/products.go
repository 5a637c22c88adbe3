package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime/trace"
	"strconv"
	"time"
)

// catalogSize is the number of products the service sells.
const catalogSize = 500

const (
	defaultPageSize = 50
	maxPageSize     = 200
)

// Product is one catalog entry. Prices are integer cents.
type Product struct {
	SKU        string
	Name       string
	Category   string
	PriceCents int64
	Stock      int
	Tags       []string
	UpdatedAt  time.Time

	view productView // the API's view of the product, rendered once
}

// catalog is read-only after construction, so handlers share it without locking.
type catalog struct {
	products   []*Product          // sorted by SKU
	bySKU      map[string]*Product // SKU -> product
	byCategory map[string][]*Product
}

var (
	categories = []string{"books", "games", "garden", "kitchen", "music", "office", "outdoor", "toys"}
	adjectives = []string{"Classic", "Compact", "Deluxe", "Eco", "Family", "Mini", "Pro", "Smart", "Travel", "Ultra"}
	nouns      = []string{"Blender", "Board Game", "Chair", "Cookbook", "Headphones", "Kettle", "Lamp", "Notebook", "Planter", "Tent", "Vinyl", "Yo-yo"}
	tagPool    = []string{"new", "sale", "bestseller", "gift", "eco", "bundle", "limited", "imported"}
)

// newCatalog builds n products deterministically, so every run serves the same data.
func newCatalog(n int) *catalog {
	c := &catalog{bySKU: make(map[string]*Product, n), byCategory: map[string][]*Product{}}
	epoch := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		h := uint64(i)*0x9E3779B97F4A7C15 + 0x2545F4914F6CDD1D
		h ^= h >> 29
		p := &Product{
			SKU:        fmt.Sprintf("SKU-%05d", i+1),
			Name:       adjectives[h%uint64(len(adjectives))] + " " + nouns[(h>>8)%uint64(len(nouns))],
			Category:   categories[i%len(categories)],
			PriceCents: int64(199 + (h>>16)%49800),
			Stock:      int((h >> 32) % 250),
			UpdatedAt:  epoch.Add(time.Duration((h>>40)%(365*24)) * time.Hour),
		}
		for t := 0; t < 1+int((h>>48)%3); t++ {
			p.Tags = append(p.Tags, tagPool[(int(h>>52)+t*3)%len(tagPool)])
		}
		p.view = productView{
			SKU:       p.SKU,
			Name:      p.Name,
			Category:  p.Category,
			Price:     formatCents(p.PriceCents),
			Currency:  "EUR",
			InStock:   p.Stock > 0,
			Stock:     p.Stock,
			Tags:      p.Tags,
			UpdatedAt: p.UpdatedAt.Format(time.RFC3339),
		}
		c.products = append(c.products, p)
		c.bySKU[p.SKU] = p
		c.byCategory[p.Category] = append(c.byCategory[p.Category], p)
	}
	return c
}

// page returns the products of category ("" for all) from offset, at most limit of them,
// and how many products match in all.
func (c *catalog) page(category string, offset, limit int) ([]*Product, int) {
	all := c.products
	if category != "" {
		all = c.byCategory[category]
	}
	if offset >= len(all) {
		return nil, len(all)
	}
	return all[offset:min(offset+limit, len(all))], len(all)
}

// productView is a product as the API shows it.
type productView struct {
	SKU       string   `json:"sku"`
	Name      string   `json:"name"`
	Category  string   `json:"category"`
	Price     string   `json:"price"`
	Currency  string   `json:"currency"`
	InStock   bool     `json:"in_stock"`
	Stock     int      `json:"stock"`
	Tags      []string `json:"tags"`
	UpdatedAt string   `json:"updated_at"`
}

type productPage struct {
	Items      []*productView `json:"items"`
	Total      int            `json:"total"`
	Offset     int            `json:"offset"`
	NextOffset *int           `json:"next_offset"`
}

// renderProducts writes the JSON page of products into buf. It is the whole cost of
// GET /products beyond the cheap catalog slice, so a perf test slows that handler here.
// The product views are rendered once, when the catalog is built, so a page allocates
// little beyond the encoder's own needs.
func renderProducts(buf *bytes.Buffer, items []*Product, offset, total int) error {
	pg := productPage{Items: make([]*productView, len(items)), Total: total, Offset: offset}
	for i, p := range items {
		pg.Items[i] = &p.view
	}
	if next := offset + len(items); next < total {
		pg.NextOffset = &next
	}
	return json.NewEncoder(buf).Encode(pg)
}

// formatCents renders 12345 as "123.45".
func formatCents(c int64) string {
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	frac := c % 100
	pad := ""
	if frac < 10 {
		pad = "0"
	}
	return sign + strconv.FormatInt(c/100, 10) + "." + pad + strconv.FormatInt(frac, 10)
}

// handleProducts serves GET /products?category=&offset=&limit=.
func (s *Server) handleProducts(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	offset, err := queryInt(q.Get("offset"), 0)
	if err != nil || offset < 0 {
		writeError(w, http.StatusBadRequest, "offset must be a non-negative integer")
		return
	}
	limit, err := queryInt(q.Get("limit"), defaultPageSize)
	if err != nil || limit < 1 || limit > maxPageSize {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("limit must be an integer from 1 to %d", maxPageSize))
		return
	}
	category := q.Get("category")
	if _, ok := s.catalog.byCategory[category]; category != "" && !ok {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("unknown category %q", category))
		return
	}

	var items []*Product
	var total int
	trace.WithRegion(ctx, "query", func() {
		items, total = s.catalog.page(category, offset, limit)
	})

	buf := getBuf()
	defer putBuf(buf)
	region := trace.StartRegion(ctx, "encode")
	err = renderProducts(buf, items, offset, total)
	region.End()
	if err != nil {
		writeError(w, http.StatusInternalServerError, "rendering products failed")
		return
	}
	trace.WithRegion(ctx, "write", func() { writeBody(w, http.StatusOK, buf) })
}

// queryInt parses a query parameter, returning def when it is absent.
func queryInt(s string, def int) (int, error) {
	if s == "" {
		return def, nil
	}
	return strconv.Atoi(s)
}
