// Package ingest accepts telemetry: JSON event batches (optionally gzip-compressed), text
// metric lines, and rollups over what was ingested. Its handlers allocate heavily — decoded
// maps of attributes, split strings, per-request aggregation maps — so the heap churns and
// GC cycles (with mark assists) land inside requests.
//
// Noise: allocation-driven GC tails; millisecond batch handlers next to sub-millisecond
// ones; a shared store behind a mutex.
package ingest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/perfgate/perfgate/bench/zoo/zoo"
)

// Routes are the service's route patterns, in registration order.
var Routes = []string{
	"POST /events",
	"POST /metrics/lines",
	"GET /rollups/{name}",
}

const (
	ringSize   = 1024
	numMetrics = 24
)

// Event is one telemetry event of a batch.
type Event struct {
	Type  string         `json:"type"`
	User  string         `json:"user"`
	TS    int64          `json:"ts"`
	Attrs map[string]any `json:"attrs"`
}

// Point is one metric sample.
type Point struct {
	Name  string
	Tags  map[string]string
	Value float64
	TS    int64
}

// Server is the ingest service.
type Server struct {
	*zoo.Mux
	slow zoo.Slowdowns

	mu   sync.Mutex
	ring map[string][]float64 // metric -> last ringSize values
	pos  map[string]int
}

// MetricName is the i-th metric's name.
func MetricName(i int) string { return fmt.Sprintf("svc.metric%02d", i%numMetrics) }

// New builds the service with the ZOO_SLOW knobs.
func New() (*Server, error) {
	slow, err := zoo.SlowdownsFor(Routes)
	if err != nil {
		return nil, err
	}
	s := &Server{Mux: zoo.NewMux(), slow: slow, ring: map[string][]float64{}, pos: map[string]int{}}
	for i := 0; i < numMetrics; i++ {
		vals := make([]float64, 512)
		for j := range vals {
			vals[j] = float64(zoo.Mix64(uint64(i*1000+j)) % 10000)
		}
		s.ring[MetricName(i)] = vals
	}
	s.Handle(Routes[0], s.events)
	s.Handle(Routes[1], s.lines)
	s.Handle(Routes[2], s.rollup)
	return s, nil
}

func (s *Server) store(name string, v float64) {
	vals := s.ring[name]
	if len(vals) < ringSize {
		s.ring[name] = append(vals, v)
		return
	}
	vals[s.pos[name]%ringSize] = v
	s.pos[name]++
}

type eventSummary struct {
	Accepted int                       `json:"accepted"`
	Rejected int                       `json:"rejected"`
	ByType   map[string]int            `json:"by_type"`
	Users    int                       `json:"users"`
	Attrs    map[string]map[string]int `json:"attrs"`
}

func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			zoo.Error(w, http.StatusBadRequest, err.Error())
			return
		}
		body = zr
	}
	var batch []Event
	var err error
	zoo.Phase(ctx, "decode", nil, func() { err = json.NewDecoder(body).Decode(&batch) })
	if err != nil {
		zoo.Error(w, http.StatusBadRequest, err.Error())
		return
	}
	sum := eventSummary{ByType: map[string]int{}, Attrs: map[string]map[string]int{}}
	zoo.Phase(ctx, "aggregate", s.slow[Routes[0]], func() {
		users := map[string]bool{}
		for _, e := range batch {
			if e.Type == "" || e.User == "" {
				sum.Rejected++
				continue
			}
			sum.Accepted++
			sum.ByType[e.Type]++
			users[e.User] = true
			for k, v := range e.Attrs {
				m := sum.Attrs[k]
				if m == nil {
					m = map[string]int{}
					sum.Attrs[k] = m
				}
				m[fmt.Sprint(v)]++
			}
		}
		sum.Users = len(users)
	})
	zoo.WriteJSON(w, http.StatusAccepted, sum)
}

func (s *Server) lines(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var points []Point
	bad := 0
	zoo.Phase(ctx, "parse", s.slow[Routes[1]], func() {
		sc := bufio.NewScanner(r.Body)
		for sc.Scan() {
			// name,tag=v,tag=v value ts
			fields := strings.Fields(sc.Text())
			if len(fields) != 3 {
				bad++
				continue
			}
			parts := strings.Split(fields[0], ",")
			p := Point{Name: parts[0], Tags: make(map[string]string, len(parts)-1)}
			for _, kv := range parts[1:] {
				k, v, _ := strings.Cut(kv, "=")
				p.Tags[k] = v
			}
			var err1, err2 error
			p.Value, err1 = strconv.ParseFloat(fields[1], 64)
			p.TS, err2 = strconv.ParseInt(fields[2], 10, 64)
			if err1 != nil || err2 != nil {
				bad++
				continue
			}
			points = append(points, p)
		}
		sort.Slice(points, func(a, b int) bool {
			if points[a].Name != points[b].Name {
				return points[a].Name < points[b].Name
			}
			return points[a].TS < points[b].TS
		})
	})
	zoo.Phase(ctx, "store", nil, func() {
		s.mu.Lock()
		for _, p := range points {
			s.store(p.Name, p.Value)
		}
		s.mu.Unlock()
	})
	zoo.WriteJSON(w, http.StatusAccepted, map[string]int{"points": len(points), "bad": bad})
}

func (s *Server) rollup(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	var vals []float64
	found := false
	zoo.Phase(r.Context(), "snapshot", s.slow[Routes[2]], func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if v, ok := s.ring[name]; ok {
			vals, found = append([]float64(nil), v...), true
		}
	})
	if !found {
		zoo.Error(w, http.StatusNotFound, "no such metric")
		return
	}
	out := map[string]float64{}
	zoo.Phase(r.Context(), "quantiles", nil, func() {
		sort.Float64s(vals)
		var total float64
		for _, v := range vals {
			total += v
		}
		out["count"] = float64(len(vals))
		out["mean"] = total / float64(len(vals))
		for _, q := range []float64{0.5, 0.9, 0.99} {
			out["p"+strconv.Itoa(int(q*100))] = vals[int(q*float64(len(vals)-1))]
		}
	})
	zoo.WriteJSON(w, http.StatusOK, out)
}

// EventBatch renders the seed-th batch of n events as JSON, gzip-compressed if zip.
func EventBatch(seed, n int, zip bool) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	for i := 0; i < n; i++ {
		h := zoo.Mix64(uint64(seed*10000 + i))
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"type":%q,"user":"u%04d","ts":%d,"attrs":{"page":"/p/%d","ms":%d,"ok":%t,"ref":"r%d","tags":["a","b%d"]}}`,
			[]string{"view", "click", "scroll", "purchase"}[h%4], (h>>8)%3000, 1700000000+int64(i), (h>>20)%40, (h>>28)%900, h%7 != 0, (h>>36)%12, (h>>40)%5)
	}
	b.WriteByte(']')
	if !zip {
		return b.Bytes()
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	_, _ = zw.Write(b.Bytes())
	_ = zw.Close()
	return z.Bytes()
}

// MetricLines renders the seed-th batch of n metric lines.
func MetricLines(seed, n int) []byte {
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		h := zoo.Mix64(uint64(seed*10000 + i))
		fmt.Fprintf(&b, "%s,host=h%02d,region=%s,az=%c %d.%02d %d\n", MetricName(int(h%numMetrics)), (h>>8)%20,
			[]string{"eu", "us", "ap"}[(h>>16)%3], 'a'+rune((h>>20)%3), (h>>24)%1000, (h>>34)%100, 1700000000+i)
	}
	return b.Bytes()
}
