package reports

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/perfgate/perfgate/bench/zoo/zoo"
)

// load: millisecond handlers, 2 clients, 300 requests per route.
var load = zoo.Load{
	Workers:  2,
	Warmup:   30,
	PerRoute: 300,
	Requests: map[string]func(int) zoo.Request{
		"GET /reports/{id}": func(i int) zoo.Request {
			return zoo.Request{Method: "GET", Path: fmt.Sprintf("/reports/%d", i%numReports), Want: http.StatusOK}
		},
		"POST /reports/{id}/export": func(i int) zoo.Request {
			path := fmt.Sprintf("/reports/%d/export", (i*5)%numReports)
			if i%3 == 0 {
				path += "?fast=1"
			}
			return zoo.Request{Method: "POST", Path: path, Body: []byte(`{}`), Want: http.StatusCreated}
		},
		"GET /reports/{id}/digest": func(i int) zoo.Request {
			return zoo.Request{Method: "GET", Path: fmt.Sprintf("/reports/%d/digest?rounds=%d", (i*7)%numReports, 2+i%3), Want: http.StatusOK}
		},
		"GET /reports": func(int) zoo.Request {
			return zoo.Request{Method: "GET", Path: "/reports", Want: http.StatusOK}
		},
	},
}

func TestPerfReports(t *testing.T) {
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
