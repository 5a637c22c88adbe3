package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime/trace"
	"time"
)

const (
	maxCheckoutBody = 64 << 10
	maxCartLines    = 50
	maxQty          = 99
	// quoteRounds is the number of SHA-256 rounds that make a quote's signature
	// tamper-evident (key stretching). It dominates priceCart's, and so checkout's, CPU:
	// about 150 µs with SHA-NI. Keep checkout well under a scheduler slice (~4 ms): the
	// longer a task, the likelier one OS preemption lands in it and lifts its p95.
	quoteRounds = 1500
	// authTimeout bounds the wait for the payment gateway.
	authTimeout = 2 * time.Second
)

// Coupons: percentage off the subtotal after volume discounts.
var coupons = map[string]int64{"SPRING10": 10, "WELCOME5": 5}

// Tax rates in basis points by category; others pay the standard rate.
var taxRates = map[string]int64{"books": 700, "music": 700}

const standardTaxBP = 1900

type cartItem struct {
	SKU string `json:"sku"`
	Qty int    `json:"qty"`
}

type checkoutRequest struct {
	CustomerID   string     `json:"customer_id"`
	Items        []cartItem `json:"items"`
	Coupon       string     `json:"coupon,omitempty"`
	PaymentToken string     `json:"payment_token"`
}

type checkoutResponse struct {
	OrderID        string `json:"order_id"`
	Status         string `json:"status"`
	Total          string `json:"total"`
	Currency       string `json:"currency"`
	AuthCode       string `json:"auth_code"`
	QuoteSignature string `json:"quote_signature"`
}

// Totals are an order's money amounts in cents.
type Totals struct {
	SubtotalCents int64 // sum of lines after volume discounts
	DiscountCents int64 // coupon discount
	TaxCents      int64
	TotalCents    int64
}

// quote is a priced cart.
type quote struct {
	Lines     []OrderLine
	Totals    Totals
	Signature string
}

// pricingError is a cart that cannot be priced: the client's fault (422).
type pricingError struct{ msg string }

func (e *pricingError) Error() string { return e.msg }

// priceCart prices a cart: line totals with volume discounts, coupon, tax per category,
// then a signature over the result. It is checkout's CPU-heavy step and the whole cost of
// POST /checkout beyond decoding, the payment call and the store, so a perf test slows
// that handler here.
func priceCart(cat *catalog, items []cartItem, coupon string) (quote, error) {
	lines, totals, err := computeTotals(cat, items, coupon)
	if err != nil {
		return quote{}, err
	}
	return quote{Lines: lines, Totals: totals, Signature: signQuote(lines, totals)}, nil
}

// computeTotals prices each line and sums up. All arithmetic is in integer cents, with
// discounts rounded down and tax rounded half up.
func computeTotals(cat *catalog, items []cartItem, coupon string) ([]OrderLine, Totals, error) {
	if len(items) == 0 {
		return nil, Totals{}, &pricingError{"the cart is empty"}
	}
	if len(items) > maxCartLines {
		return nil, Totals{}, &pricingError{fmt.Sprintf("a cart holds at most %d lines", maxCartLines)}
	}
	pct, ok := coupons[coupon]
	if coupon != "" && !ok {
		return nil, Totals{}, &pricingError{fmt.Sprintf("unknown coupon %q", coupon)}
	}
	lines := make([]OrderLine, len(items))
	var t Totals
	for i, it := range items {
		p := cat.bySKU[it.SKU]
		if p == nil {
			return nil, Totals{}, &pricingError{fmt.Sprintf("unknown product %q", it.SKU)}
		}
		if it.Qty < 1 || it.Qty > maxQty {
			return nil, Totals{}, &pricingError{fmt.Sprintf("quantity of %s must be 1 to %d", it.SKU, maxQty)}
		}
		line := p.PriceCents * int64(it.Qty)
		switch { // volume discount
		case it.Qty >= 10:
			line -= line * 8 / 100
		case it.Qty >= 5:
			line -= line * 3 / 100
		}
		lines[i] = OrderLine{SKU: p.SKU, Name: p.Name, Qty: it.Qty, UnitCents: p.PriceCents, LineCents: line}
		t.SubtotalCents += line
	}
	t.DiscountCents = t.SubtotalCents * pct / 100
	// Tax each line on its share of the discounted subtotal.
	for _, l := range lines {
		rate, ok := taxRates[cat.bySKU[l.SKU].Category]
		if !ok {
			rate = standardTaxBP
		}
		net := l.LineCents - l.LineCents*pct/100
		t.TaxCents += (net*rate + 5000) / 10000
	}
	t.TotalCents = t.SubtotalCents - t.DiscountCents + t.TaxCents
	return lines, t, nil
}

// signQuote stretches a digest of the priced lines over quoteRounds SHA-256 rounds.
func signQuote(lines []OrderLine, t Totals) string {
	h := sha256.New()
	var num [8]byte
	for _, l := range lines {
		h.Write([]byte(l.SKU))
		binary.LittleEndian.PutUint64(num[:], uint64(l.Qty))
		h.Write(num[:])
		binary.LittleEndian.PutUint64(num[:], uint64(l.LineCents))
		h.Write(num[:])
	}
	binary.LittleEndian.PutUint64(num[:], uint64(t.TotalCents))
	h.Write(num[:])
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	var block [sha256.Size + 8]byte
	for r := 0; r < quoteRounds; r++ {
		copy(block[:], sum[:])
		binary.LittleEndian.PutUint64(block[sha256.Size:], uint64(r))
		sum = sha256.Sum256(block[:])
	}
	return hex.EncodeToString(sum[:16])
}

// handleCheckout serves POST /checkout: decode the cart, price it, authorize the payment
// with the gateway, store the order.
func (s *Server) handleCheckout(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()

	var req checkoutRequest
	var err error
	trace.WithRegion(ctx, "decode", func() {
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxCheckoutBody))
		dec.DisallowUnknownFields()
		err = dec.Decode(&req)
	})
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("checkout request larger than %d bytes", maxCheckoutBody))
		return
	} else if err != nil {
		writeError(w, http.StatusBadRequest, "invalid checkout request: "+err.Error())
		return
	}
	if req.CustomerID == "" || req.PaymentToken == "" {
		writeError(w, http.StatusBadRequest, "customer_id and payment_token are required")
		return
	}

	var q quote
	trace.WithRegion(ctx, "price", func() { q, err = priceCart(s.catalog, req.Items, req.Coupon) })
	var perr *pricingError
	if errors.As(err, &perr) {
		writeError(w, http.StatusUnprocessableEntity, perr.msg)
		return
	} else if err != nil {
		writeError(w, http.StatusInternalServerError, "pricing failed")
		return
	}

	var authCode string
	trace.WithRegion(ctx, "authorize", func() {
		actx, cancel := context.WithTimeout(ctx, authTimeout)
		defer cancel()
		authCode, err = s.payment.authorize(actx, req.CustomerID, q.Totals.TotalCents, req.PaymentToken)
	})
	switch {
	case errors.Is(err, errDeclined):
		writeError(w, http.StatusPaymentRequired, "payment declined")
		return
	case err != nil:
		writeError(w, http.StatusServiceUnavailable, "payment gateway unavailable: "+err.Error())
		return
	}

	o := &Order{CustomerID: req.CustomerID, Lines: q.Lines, Totals: q.Totals, AuthCode: authCode, CreatedAt: time.Now().UTC()}
	var id string
	trace.WithRegion(ctx, "store", func() { id = s.orders.insert(o) })

	w.Header().Set("Location", "/orders/"+id)
	trace.WithRegion(ctx, "encode", func() {
		writeJSON(w, http.StatusCreated, checkoutResponse{
			OrderID:        id,
			Status:         "confirmed",
			Total:          formatCents(q.Totals.TotalCents),
			Currency:       "EUR",
			AuthCode:       authCode,
			QuoteSignature: q.Signature,
		})
	})
}
