// Package reports renders and exports business reports: millisecond handlers doing real CPU
// work — text/template rendering of large tables, CSV export compressed with gzip, sha256
// digests of a report's data.
//
// Noise: millisecond latencies with few requests in flight (2 clients); gzip writers and
// rendered buffers allocate hundreds of KiB per request, so GC cycles land inside requests.
package reports

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"text/template"

	"github.com/perfgate/perfgate/bench/zoo/zoo"
)

// Routes are the service's route patterns, in registration order.
var Routes = []string{
	"GET /reports/{id}",
	"POST /reports/{id}/export",
	"GET /reports/{id}/digest",
	"GET /reports",
}

const (
	numReports    = 12
	rowsPerReport = 160
)

// Row is one line of a report.
type Row struct {
	Region  string
	Product string
	Units   int
	Revenue int64 // cents
	Margin  float64
}

// Report is a seeded table of rows.
type Report struct {
	ID    int
	Title string
	Rows  []Row
	raw   []byte // the rows as bytes, for digests
}

var tmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"cents": func(c int64) string { return fmt.Sprintf("%d.%02d", c/100, c%100) },
	"pct":   func(f float64) string { return strconv.FormatFloat(f*100, 'f', 1, 64) + "%" },
	"upper": strings.ToUpper,
}).Parse(`<html><head><title>{{.Title}}</title></head><body>
<h1>{{upper .Title}}</h1>
<table>
<tr><th>#</th><th>Region</th><th>Product</th><th>Units</th><th>Revenue</th><th>Margin</th></tr>
{{range $i, $r := .Rows}}<tr class="{{if $r.Margin | lt 0.2}}good{{else}}thin{{end}}"><td>{{$i}}</td><td>{{$r.Region}}</td><td>{{$r.Product}}</td><td>{{$r.Units}}</td><td>{{cents $r.Revenue}}</td><td>{{pct $r.Margin}}</td></tr>
{{end}}</table>
<p>{{len .Rows}} rows</p></body></html>
`))

// Server is the reports service.
type Server struct {
	*zoo.Mux
	slow    zoo.Slowdowns
	reports []*Report
}

var regions = []string{"north", "south", "east", "west", "central", "online"}

// New builds the service with seeded reports and the ZOO_SLOW knobs.
func New() (*Server, error) {
	slow, err := zoo.SlowdownsFor(Routes)
	if err != nil {
		return nil, err
	}
	s := &Server{Mux: zoo.NewMux(), slow: slow}
	for id := 0; id < numReports; id++ {
		rep := &Report{ID: id, Title: fmt.Sprintf("Quarterly sales %d", 2000+id)}
		for i := 0; i < rowsPerReport; i++ {
			h := zoo.Mix64(uint64(id*1000 + i))
			rep.Rows = append(rep.Rows, Row{
				Region:  regions[h%uint64(len(regions))],
				Product: fmt.Sprintf("product-%03d", (h>>8)%300),
				Units:   int((h >> 20) % 1000),
				Revenue: int64((h >> 32) % 10_000_000),
				Margin:  float64((h>>48)%600) / 1000,
			})
		}
		// 64 KiB of data per report behind the digest.
		rep.raw = make([]byte, 64<<10)
		for i := 0; i < len(rep.raw); i += 8 {
			binary.LittleEndian.PutUint64(rep.raw[i:], zoo.Mix64(uint64(id)<<32|uint64(i)))
		}
		s.reports = append(s.reports, rep)
	}
	s.Handle(Routes[0], s.show)
	s.Handle(Routes[1], s.export)
	s.Handle(Routes[2], s.digest)
	s.Handle(Routes[3], s.list)
	return s, nil
}

func (s *Server) report(w http.ResponseWriter, r *http.Request) *Report {
	id, err := strconv.Atoi(r.PathValue("id"))
	if err != nil || id < 0 || id >= len(s.reports) {
		zoo.Error(w, http.StatusNotFound, "no such report")
		return nil
	}
	return s.reports[id]
}

func (s *Server) show(w http.ResponseWriter, r *http.Request) {
	rep := s.report(w, r)
	if rep == nil {
		return
	}
	var buf bytes.Buffer
	var err error
	zoo.Phase(r.Context(), "render", s.slow[Routes[0]], func() { err = tmpl.Execute(&buf, rep) })
	if err != nil {
		zoo.Error(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
}

func (s *Server) export(w http.ResponseWriter, r *http.Request) {
	rep := s.report(w, r)
	if rep == nil {
		return
	}
	ctx := r.Context()
	level := gzip.DefaultCompression
	if r.URL.Query().Get("fast") != "" {
		level = gzip.BestSpeed
	}
	var csv bytes.Buffer
	zoo.Phase(ctx, "csv", nil, func() {
		csv.WriteString("region,product,units,revenue,margin\n")
		for k := 0; k < 3; k++ { // the export covers three periods: this report and the next two
			for _, row := range s.reports[(rep.ID+k)%len(s.reports)].Rows {
				fmt.Fprintf(&csv, "%s,%s,%d,%d,%.3f\n", row.Region, row.Product, row.Units, row.Revenue, row.Margin)
			}
		}
	})
	var out bytes.Buffer
	var err error
	zoo.Phase(ctx, "compress", s.slow[Routes[1]], func() {
		zw, e := gzip.NewWriterLevel(&out, level) // a fresh writer: ~800 KiB of state each time
		if e != nil {
			err = e
			return
		}
		if _, err = zw.Write(csv.Bytes()); err == nil {
			err = zw.Close()
		}
	})
	if err != nil {
		zoo.Error(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/gzip")
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(out.Bytes())
}

func (s *Server) digest(w http.ResponseWriter, r *http.Request) {
	rep := s.report(w, r)
	if rep == nil {
		return
	}
	rounds, _ := strconv.Atoi(r.URL.Query().Get("rounds"))
	rounds = max(1, min(rounds, 16))
	var sum [32]byte
	zoo.Phase(r.Context(), "hash", s.slow[Routes[2]], func() {
		h := sha256.New()
		for i := 0; i < rounds; i++ {
			h.Write(sum[:])
			h.Write(rep.raw)
			h.Sum(sum[:0])
		}
	})
	zoo.WriteJSON(w, http.StatusOK, map[string]any{"id": rep.ID, "rounds": rounds, "sha256": hex.EncodeToString(sum[:])})
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	type entry struct {
		ID    int    `json:"id"`
		Title string `json:"title"`
		Rows  int    `json:"rows"`
	}
	out := make([]entry, 0, len(s.reports))
	zoo.Phase(r.Context(), "list", s.slow[Routes[3]], func() {
		for _, rep := range s.reports {
			out = append(out, entry{rep.ID, rep.Title, len(rep.Rows)})
		}
	})
	zoo.WriteJSON(w, http.StatusOK, out)
}
