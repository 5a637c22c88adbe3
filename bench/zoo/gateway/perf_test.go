package gateway

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/perfgate/perfgate/bench/zoo/zoo"
)

// load: I/O-bound handlers, 6 clients (the backend has 8 workers; portfolios fan out to 3–6 calls), 400 per route.
var load = zoo.Load{
	Workers:  6,
	Warmup:   50,
	PerRoute: 400,
	Requests: map[string]func(int) zoo.Request{
		"GET /quotes/{sym}": func(i int) zoo.Request {
			return zoo.Request{Method: "GET", Path: "/quotes/" + Symbol(i*7), Want: http.StatusOK}
		},
		"GET /portfolio/{id}": func(i int) zoo.Request {
			return zoo.Request{Method: "GET", Path: fmt.Sprintf("/portfolio/acct-%03d", i%50), Want: http.StatusOK}
		},
		"POST /orders": func(i int) zoo.Request {
			side := []string{"buy", "sell"}[i%2]
			body := fmt.Sprintf(`{"symbol":%q,"side":%q,"qty":%d,"limit_cents":%d}`, Symbol(i*13), side, 1+i%90, 1000+i*17)
			return zoo.Request{Method: "POST", Path: "/orders", Body: []byte(body), Want: http.StatusCreated}
		},
		"GET /status": func(int) zoo.Request {
			return zoo.Request{Method: "GET", Path: "/status", Want: http.StatusOK}
		},
	},
}

func TestPerfGateway(t *testing.T) {
	if testing.Short() {
		t.Skip("perf test skipped in -short mode")
	}
	s, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	zoo.RunPerf(t, s, Routes, load)
}

func TestRoutesAnswer(t *testing.T) {
	s, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	zoo.CheckRoutes(t, s, Routes, load)
}
