package search

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/perfgate/perfgate/bench/zoo/zoo"
)

// load: fan-out with blocking waits, 4 clients, 500 per route.
var load = zoo.Load{
	Workers:  4,
	Warmup:   60,
	PerRoute: 500,
	Requests: map[string]func(int) zoo.Request{
		"GET /search": func(i int) zoo.Request {
			h := zoo.Mix64(uint64(i % 40)) // 40 distinct queries, compiled once each
			q := words[h%uint64(len(words))] + " " + words[(h>>16)%uint64(len(words))]
			return zoo.Request{Method: "GET", Path: "/search?q=" + url.QueryEscape(q), Want: http.StatusOK}
		},
		"GET /suggest": func(i int) zoo.Request {
			w := words[i%len(words)]
			return zoo.Request{Method: "GET", Path: "/suggest?prefix=" + w[:1+i%3], Want: http.StatusOK}
		},
		"GET /docs/{id}": func(i int) zoo.Request {
			return zoo.Request{Method: "GET", Path: fmt.Sprintf("/docs/%d", (i*131)%(numShards*docsPerShard)), Want: http.StatusOK}
		},
	},
}

func TestPerfSearch(t *testing.T) {
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
