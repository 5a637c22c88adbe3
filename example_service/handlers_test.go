package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime/trace"
	"strings"
	"testing"

	"github.com/perfgate/perfgate/perftest"
)

func newTestServer(t *testing.T, opts Options) (*Server, http.Handler) {
	t.Helper()
	s := NewServer(opts)
	t.Cleanup(s.Close)
	return s, s.Handler()
}

// do serves one request and returns the status and body.
func do(t *testing.T, h http.Handler, method, target, body string) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, rd)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Header(), rec.Body.Bytes()
}

func decodeJSON(t *testing.T, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, data)
	}
}

func TestRoutes(t *testing.T) {
	want := []string{"GET /healthz", "GET /products", "GET /orders/{id}", "POST /checkout"}
	got := Routes()
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("Routes() = %q, want %q", got, want)
	}
}

func TestHealthz(t *testing.T) {
	_, h := newTestServer(t, Options{})
	code, hdr, body := do(t, h, "GET", "/healthz", "")
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	if ct := hdr.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var v healthView
	decodeJSON(t, body, &v)
	if v.Status != "ok" || v.Products != catalogSize || v.Orders != 1000 {
		t.Errorf("health = %+v", v)
	}
}

func TestProducts(t *testing.T) {
	s, h := newTestServer(t, Options{})
	code, _, body := do(t, h, "GET", "/products", "")
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	var pg productPage
	decodeJSON(t, body, &pg)
	if len(pg.Items) != defaultPageSize || pg.Total != catalogSize || pg.NextOffset == nil || *pg.NextOffset != defaultPageSize {
		t.Errorf("default page: %d items, total %d, next %v", len(pg.Items), pg.Total, pg.NextOffset)
	}
	first := pg.Items[0]
	if first.SKU != "SKU-00001" || first.Currency != "EUR" || first.Name == "" || len(first.Tags) == 0 || !strings.Contains(first.Price, ".") {
		t.Errorf("first product = %+v", first)
	}

	code, _, body = do(t, h, "GET", "/products?offset=480&limit=100", "")
	decodeJSON(t, body, &pg)
	if code != http.StatusOK || len(pg.Items) != 20 || pg.NextOffset != nil || pg.Items[19].SKU != "SKU-00500" {
		t.Errorf("last page: status %d, %d items, next %v", code, len(pg.Items), pg.NextOffset)
	}

	code, _, body = do(t, h, "GET", "/products?category=books&limit=200", "")
	pg = productPage{}
	decodeJSON(t, body, &pg)
	if code != http.StatusOK || pg.Total != len(s.catalog.byCategory["books"]) || pg.Total < catalogSize/len(categories) || len(pg.Items) != pg.Total {
		t.Errorf("books: status %d, total %d, %d items", code, pg.Total, len(pg.Items))
	}
	for _, p := range pg.Items {
		if p.Category != "books" {
			t.Errorf("category filter let through %+v", p)
		}
	}

	code, _, body = do(t, h, "GET", "/products?offset=9999", "")
	pg = productPage{}
	decodeJSON(t, body, &pg)
	if code != http.StatusOK || len(pg.Items) != 0 || pg.Total != catalogSize {
		t.Errorf("past the end: status %d, %d items", code, len(pg.Items))
	}

	for _, bad := range []string{"?limit=0", "?limit=201", "?limit=x", "?offset=-1", "?category=cars"} {
		if code, _, body := do(t, h, "GET", "/products"+bad, ""); code != http.StatusBadRequest || !bytes.Contains(body, []byte(`"error"`)) {
			t.Errorf("GET /products%s: status %d, body %s", bad, code, body)
		}
	}
}

func TestGetOrder(t *testing.T) {
	_, h := newTestServer(t, Options{})
	code, _, body := do(t, h, "GET", "/orders/ord-000042", "")
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	var o orderView
	decodeJSON(t, body, &o)
	if o.ID != "ord-000042" || o.Status != "confirmed" || len(o.Lines) < 3 || o.Total == "" || o.AuthCode == "" {
		t.Errorf("order = %+v", o)
	}
	items := 0
	for _, l := range o.Lines {
		items += l.Qty
	}
	if items != o.Items {
		t.Errorf("items = %d, lines hold %d", o.Items, items)
	}

	if code, _, _ := do(t, h, "GET", "/orders/ord-999999", ""); code != http.StatusNotFound {
		t.Errorf("unknown order: status %d, want 404", code)
	}
	if code, _, _ := do(t, h, "GET", "/orders/42", ""); code != http.StatusBadRequest {
		t.Errorf("malformed id: status %d, want 400", code)
	}
	if code, _, _ := do(t, h, "DELETE", "/orders/ord-000042", ""); code != http.StatusMethodNotAllowed {
		t.Errorf("DELETE: status %d, want 405", code)
	}
}

const goodCart = `{"customer_id": "cust-0007", "payment_token": "tok_visa",
	"items": [{"sku": "SKU-00001", "qty": 2}, {"sku": "SKU-00002", "qty": 5}, {"sku": "SKU-00010", "qty": 12}],
	"coupon": "SPRING10"}`

func TestCheckout(t *testing.T) {
	_, h := newTestServer(t, Options{})
	code, hdr, body := do(t, h, "POST", "/checkout", goodCart)
	if code != http.StatusCreated {
		t.Fatalf("status %d: %s", code, body)
	}
	var res checkoutResponse
	decodeJSON(t, body, &res)
	if res.OrderID != "ord-001001" || res.Status != "confirmed" || !strings.HasPrefix(res.AuthCode, "AUTH") || len(res.QuoteSignature) != 32 {
		t.Errorf("checkout = %+v", res)
	}
	if loc := hdr.Get("Location"); loc != "/orders/"+res.OrderID {
		t.Errorf("Location %q", loc)
	}

	// The new order can be read back, with the same total.
	code, _, body = do(t, h, "GET", "/orders/"+res.OrderID, "")
	var o orderView
	decodeJSON(t, body, &o)
	if code != http.StatusOK || o.Total != res.Total || o.CustomerID != "cust-0007" || len(o.Lines) != 3 || o.Items != 19 {
		t.Errorf("stored order: status %d, %+v", code, o)
	}

	cases := []struct {
		name, body string
		want       int
	}{
		{"not json", `{`, http.StatusBadRequest},
		{"unknown field", `{"customer_id": "c", "payment_token": "t", "items": [], "gift": true}`, http.StatusBadRequest},
		{"no customer", `{"payment_token": "t", "items": [{"sku": "SKU-00001", "qty": 1}]}`, http.StatusBadRequest},
		{"empty cart", `{"customer_id": "c", "payment_token": "t", "items": []}`, http.StatusUnprocessableEntity},
		{"unknown sku", `{"customer_id": "c", "payment_token": "t", "items": [{"sku": "SKU-99999", "qty": 1}]}`, http.StatusUnprocessableEntity},
		{"zero qty", `{"customer_id": "c", "payment_token": "t", "items": [{"sku": "SKU-00001", "qty": 0}]}`, http.StatusUnprocessableEntity},
		{"bad coupon", `{"customer_id": "c", "payment_token": "t", "coupon": "FREE", "items": [{"sku": "SKU-00001", "qty": 1}]}`, http.StatusUnprocessableEntity},
		{"declined", `{"customer_id": "c", "payment_token": "tok_declined", "items": [{"sku": "SKU-00001", "qty": 1}]}`, http.StatusPaymentRequired},
		{"too big", `{"customer_id": "` + strings.Repeat("x", maxCheckoutBody) + `"}`, http.StatusRequestEntityTooLarge},
	}
	for _, c := range cases {
		if code, _, body := do(t, h, "POST", "/checkout", c.body); code != c.want {
			t.Errorf("%s: status %d, want %d: %s", c.name, code, c.want, body)
		}
	}
	if code, _, _ := do(t, h, "GET", "/checkout", ""); code != http.StatusMethodNotAllowed {
		t.Errorf("GET /checkout: status %d, want 405", code)
	}
}

func TestCheckoutGatewayClosed(t *testing.T) {
	s, h := newTestServer(t, Options{})
	s.Close()
	if code, _, body := do(t, h, "POST", "/checkout", goodCart); code != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503: %s", code, body)
	}
}

func TestComputeTotals(t *testing.T) {
	cat := newCatalog(catalogSize)
	p := cat.bySKU["SKU-00001"]
	lines, tot, err := computeTotals(cat, []cartItem{{SKU: p.SKU, Qty: 10}}, "WELCOME5")
	if err != nil {
		t.Fatal(err)
	}
	line := p.PriceCents*10 - p.PriceCents*10*8/100
	rate := int64(standardTaxBP)
	if r, ok := taxRates[p.Category]; ok {
		rate = r
	}
	net := line - line*5/100
	want := Totals{SubtotalCents: line, DiscountCents: line * 5 / 100, TaxCents: (net*rate + 5000) / 10000}
	want.TotalCents = want.SubtotalCents - want.DiscountCents + want.TaxCents
	if tot != want || len(lines) != 1 || lines[0].LineCents != line {
		t.Errorf("totals = %+v, want %+v", tot, want)
	}
}

func TestPriceCartDeterministic(t *testing.T) {
	cat := newCatalog(catalogSize)
	items := []cartItem{{SKU: "SKU-00003", Qty: 1}, {SKU: "SKU-00004", Qty: 3}}
	a, err := priceCart(cat, items, "")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := priceCart(cat, items, "")
	c, _ := priceCart(cat, []cartItem{{SKU: "SKU-00003", Qty: 2}, {SKU: "SKU-00004", Qty: 3}}, "")
	if a.Signature != b.Signature || a.Signature == c.Signature {
		t.Errorf("signatures %s %s %s", a.Signature, b.Signature, c.Signature)
	}
}

func TestFormatCents(t *testing.T) {
	for c, want := range map[int64]string{0: "0.00", 5: "0.05", 199: "1.99", 12345: "123.45", -1050: "-10.50"} {
		if got := formatCents(c); got != want {
			t.Errorf("formatCents(%d) = %q, want %q", c, got, want)
		}
	}
}

// TestHandlerTasks checks that a handler call is recorded as a runtime/trace task named
// after its route pattern, and that a warm-up request is not. It looks for the task name
// in the raw trace: names are written to the trace's string table only when used.
func TestHandlerTasks(t *testing.T) {
	if trace.IsEnabled() {
		t.Skip("tracing already enabled (go test -trace): cannot start a second trace")
	}
	_, h := newTestServer(t, Options{})
	record := func(warmup bool) []byte {
		var buf bytes.Buffer
		if err := trace.Start(&buf); err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest("GET", "/orders/ord-000001", nil)
		if warmup {
			req = req.WithContext(perftest.Warmup(req.Context()))
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		trace.Stop()
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d", rec.Code)
		}
		return buf.Bytes()
	}
	if tr := record(false); !bytes.Contains(tr, []byte("GET /orders/{id}")) {
		t.Error("trace of a measured request has no task named \"GET /orders/{id}\"")
	}
	if tr := record(true); bytes.Contains(tr, []byte("GET /orders/{id}")) {
		t.Error("trace of a warm-up request has a task named \"GET /orders/{id}\"")
	}
}
