package ingest

import (
	"net/http"
	"testing"

	"github.com/perfgate/perfgate/bench/zoo/zoo"
)

// Pre-rendered bodies, used in turn: 8 event batches (every other one gzip-compressed) and
// 8 blocks of metric lines.
var (
	eventBodies [8][]byte
	lineBodies  [8][]byte
)

func init() {
	for i := range eventBodies {
		eventBodies[i] = EventBatch(i, 120+i*10, i%2 == 1)
		lineBodies[i] = MetricLines(i, 150+i*10)
	}
}

// load: allocation-heavy handlers, 4 clients, 600 per route.
var load = zoo.Load{
	Workers:  4,
	Warmup:   60,
	PerRoute: 600,
	Requests: map[string]func(int) zoo.Request{
		"POST /events": func(i int) zoo.Request {
			req := zoo.Request{Method: "POST", Path: "/events", Body: eventBodies[i%8], Want: http.StatusAccepted}
			if i%2 == 1 {
				req.Header = map[string]string{"Content-Encoding": "gzip"}
			}
			return req
		},
		"POST /metrics/lines": func(i int) zoo.Request {
			return zoo.Request{Method: "POST", Path: "/metrics/lines", Body: lineBodies[i%8], ContentType: "text/plain", Want: http.StatusAccepted}
		},
		"GET /rollups/{name}": func(i int) zoo.Request {
			return zoo.Request{Method: "GET", Path: "/rollups/" + MetricName(i*5), Want: http.StatusOK}
		},
	},
}

func TestPerfIngest(t *testing.T) {
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
