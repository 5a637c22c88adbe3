package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime/trace"
	"sync"
	"time"
)

// Order is a confirmed order. Orders are immutable once stored, so readers may keep the
// pointer after releasing the store's lock.
type Order struct {
	ID         string
	CustomerID string
	Lines      []OrderLine
	Totals     Totals
	AuthCode   string
	CreatedAt  time.Time
}

// OrderLine is one product line of an order.
type OrderLine struct {
	SKU       string
	Name      string
	Qty       int
	UnitCents int64
	LineCents int64 // after volume discount
}

// orderStore is the service's order database: a map under a RWMutex, read by
// GET /orders/{id} and written by POST /checkout.
type orderStore struct {
	mu   sync.RWMutex
	byID map[string]*Order
	next int // number of the next order
}

func orderID(n int) string { return fmt.Sprintf("ord-%06d", n) }

// validOrderID reports whether id looks like "ord-000123".
func validOrderID(id string) bool {
	if len(id) != 10 || id[:4] != "ord-" {
		return false
	}
	for _, c := range id[4:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// seedOrders fills a store with n orders, ord-000001 to ord-<n>, built deterministically
// from the catalog: 3 to 12 lines each.
func seedOrders(cat *catalog, n int) *orderStore {
	st := &orderStore{byID: make(map[string]*Order, n*2), next: 1}
	created := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		var items []cartItem
		for l := 0; l < 3+i%10; l++ {
			p := cat.products[(i*131+l*17)%len(cat.products)]
			items = append(items, cartItem{SKU: p.SKU, Qty: 1 + (i+l)%4})
		}
		lines, totals, err := computeTotals(cat, items, "")
		if err != nil {
			panic(err) // the seed only uses catalog products
		}
		st.insert(&Order{
			CustomerID: fmt.Sprintf("cust-%04d", i%200),
			Lines:      lines,
			Totals:     totals,
			AuthCode:   fmt.Sprintf("AUTH%08X", i*2654435761%(1<<32)),
			CreatedAt:  created.Add(time.Duration(i) * time.Minute),
		})
	}
	return st
}

// insert stores o under a new ID, which it sets and returns.
func (st *orderStore) insert(o *Order) string {
	st.mu.Lock()
	defer st.mu.Unlock()
	o.ID = orderID(st.next)
	st.next++
	st.byID[o.ID] = o
	return o.ID
}

// get returns the order with the given ID, or nil.
func (st *orderStore) get(id string) *Order {
	st.mu.RLock()
	defer st.mu.RUnlock()
	return st.byID[id]
}

// count returns the number of stored orders.
func (st *orderStore) count() int {
	st.mu.RLock()
	defer st.mu.RUnlock()
	return len(st.byID)
}

type orderLineView struct {
	SKU       string `json:"sku"`
	Name      string `json:"name"`
	Qty       int    `json:"qty"`
	UnitPrice string `json:"unit_price"`
	LineTotal string `json:"line_total"`
}

type orderView struct {
	ID         string          `json:"id"`
	CustomerID string          `json:"customer_id"`
	Status     string          `json:"status"`
	Items      int             `json:"items"`
	Lines      []orderLineView `json:"lines"`
	Subtotal   string          `json:"subtotal"`
	Discount   string          `json:"discount"`
	Tax        string          `json:"tax"`
	Total      string          `json:"total"`
	Currency   string          `json:"currency"`
	AuthCode   string          `json:"auth_code"`
	CreatedAt  string          `json:"created_at"`
}

// renderOrder writes the JSON view of o into buf. It is the whole cost of
// GET /orders/{id} beyond the map lookup, so a perf test slows that handler here.
func renderOrder(buf *bytes.Buffer, o *Order) error {
	v := orderView{
		ID:         o.ID,
		CustomerID: o.CustomerID,
		Status:     "confirmed",
		Lines:      make([]orderLineView, len(o.Lines)),
		Subtotal:   formatCents(o.Totals.SubtotalCents),
		Discount:   formatCents(o.Totals.DiscountCents),
		Tax:        formatCents(o.Totals.TaxCents),
		Total:      formatCents(o.Totals.TotalCents),
		Currency:   "EUR",
		AuthCode:   o.AuthCode,
		CreatedAt:  o.CreatedAt.Format(time.RFC3339),
	}
	for i, l := range o.Lines {
		v.Items += l.Qty
		v.Lines[i] = orderLineView{
			SKU:       l.SKU,
			Name:      l.Name,
			Qty:       l.Qty,
			UnitPrice: formatCents(l.UnitCents),
			LineTotal: formatCents(l.LineCents),
		}
	}
	return json.NewEncoder(buf).Encode(v)
}

// handleGetOrder serves GET /orders/{id}.
func (s *Server) handleGetOrder(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	if !validOrderID(id) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("malformed order id %q", id))
		return
	}
	var o *Order
	trace.WithRegion(ctx, "lookup", func() { o = s.orders.get(id) })
	if o == nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("order %q not found", id))
		return
	}

	buf := getBuf()
	defer putBuf(buf)
	region := trace.StartRegion(ctx, "encode")
	err := renderOrder(buf, o)
	region.End()
	if err != nil {
		writeError(w, http.StatusInternalServerError, "rendering order failed")
		return
	}
	trace.WithRegion(ctx, "write", func() { writeBody(w, http.StatusOK, buf) })
}
