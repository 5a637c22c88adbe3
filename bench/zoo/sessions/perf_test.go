package sessions

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/perfgate/perfgate/bench/zoo/zoo"
)

// load: lock contention, 8 clients, 800 per route.
var load = zoo.Load{
	Workers:  8,
	Warmup:   100,
	PerRoute: 800,
	Requests: map[string]func(int) zoo.Request{
		"GET /sessions/{id}": func(i int) zoo.Request {
			return zoo.Request{Method: "GET", Path: "/sessions/" + SessionID(int(zoo.Mix64(uint64(i))%seedSessions)), Want: http.StatusOK}
		},
		"POST /sessions/{id}/touch": func(i int) zoo.Request {
			return zoo.Request{Method: "POST", Path: "/sessions/" + SessionID((i*17)%seedSessions) + "/touch", Want: http.StatusOK}
		},
		"POST /sessions": func(i int) zoo.Request {
			body := fmt.Sprintf(`{"user":"user%04d","attrs":{"ua":"zoo/1.0","lang":"en","ip":"10.0.%d.%d"}}`, i%2000, i%256, (i*7)%256)
			return zoo.Request{Method: "POST", Path: "/sessions", Body: []byte(body), Want: http.StatusCreated}
		},
		"GET /sessions/active": func(int) zoo.Request {
			return zoo.Request{Method: "GET", Path: "/sessions/active", Want: http.StatusOK}
		},
	},
}

func TestPerfSessions(t *testing.T) {
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
