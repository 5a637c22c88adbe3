package pricing

import (
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/perfgate/perfgate/bench/zoo/zoo"
)

// skewed is a seeded, Zipf-like SKU index: popular SKUs stay cached, the long tail misses.
func skewed(i int, salt uint64) int {
	u := float64(zoo.Mix64(uint64(i)*2654435761+salt)%1_000_000) / 1_000_000
	return int(math.Pow(u, 2.2) * numSKUs)
}

// load: bimodal handlers, 4 clients, 700 per route.
var load = zoo.Load{
	Workers:  4,
	Warmup:   300,
	PerRoute: 700,
	Requests: map[string]func(int) zoo.Request{
		"GET /prices/{sku}": func(i int) zoo.Request {
			return zoo.Request{Method: "GET", Path: "/prices/" + SKU(skewed(i, 1)), Want: http.StatusOK}
		},
		"POST /quotes": func(i int) zoo.Request {
			var lines []string
			for l := 0; l < 4; l++ {
				lines = append(lines, fmt.Sprintf(`{"sku":%q,"qty":%d}`, SKU(skewed(i*4+l, 2)), 1+(i+l)%5))
			}
			cur := []string{"EUR", "USD", "GBP"}[i%3]
			body := fmt.Sprintf(`{"currency":%q,"lines":[%s]}`, cur, strings.Join(lines, ","))
			return zoo.Request{Method: "POST", Path: "/quotes", Body: []byte(body), Want: http.StatusOK}
		},
		"GET /rates/{currency}": func(i int) zoo.Request {
			return zoo.Request{Method: "GET", Path: "/rates/" + []string{"EUR", "USD", "GBP", "JPY", "CHF", "SEK"}[i%6], Want: http.StatusOK}
		},
	},
}

func TestPerfPricing(t *testing.T) {
	if testing.Short() {
		t.Skip("perf test skipped in -short mode")
	}
	s, err := New()
	if err != nil {
		t.Fatal(err)
	}
	zoo.RunPerf(t, s, Routes, load)
}

func TestRoutesAnswer(t *testing.T) {
	s, err := New()
	if err != nil {
		t.Fatal(err)
	}
	zoo.CheckRoutes(t, s, Routes, load)
}
