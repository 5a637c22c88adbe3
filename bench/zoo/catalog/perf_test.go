package catalog

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/perfgate/perfgate/bench/zoo/zoo"
)

// load: microsecond handlers, many requests, 4 clients.
var load = zoo.Load{
	Workers:  4,
	Warmup:   150,
	PerRoute: 1000,
	Requests: map[string]func(int) zoo.Request{
		"GET /items/{id}": func(i int) zoo.Request {
			return zoo.Request{Method: "GET", Path: "/items/" + ItemID(int(zoo.Mix64(uint64(i))%catalogSize)), Want: http.StatusOK}
		},
		"GET /items": func(i int) zoo.Request {
			return zoo.Request{Method: "GET", Path: fmt.Sprintf("/items?offset=%d&limit=20", (i*97)%1900), Want: http.StatusOK}
		},
		"PUT /items/{id}/stock": func(i int) zoo.Request {
			body := fmt.Sprintf(`{"delta":%d,"reason":"restock"}`, int(zoo.Mix64(uint64(i)+7)%21)-10)
			return zoo.Request{Method: "PUT", Path: "/items/" + ItemID((i*31)%catalogSize) + "/stock", Body: []byte(body), Want: http.StatusOK}
		},
		"GET /categories/{name}/summary": func(i int) zoo.Request {
			return zoo.Request{Method: "GET", Path: "/categories/" + categoryNames[i%len(categoryNames)] + "/summary", Want: http.StatusOK}
		},
	},
}

func TestPerfCatalog(t *testing.T) {
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
