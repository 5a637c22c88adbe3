// Package search is a sharded full-text search front end: a query fans out to every shard
// on its own goroutine (errgroup-style, with a sync.WaitGroup); each shard first waits for
// its "index read" (a blocking wait of seeded length), then matches a compiled regexp over
// its documents and scores them; the front end merges and sorts the hits.
//
// Noise: fan-out (a request is as slow as its slowest shard), blocking waits, regexp and
// sorting CPU work, goroutine scheduling with 8 shards per request on 2 cores.
package search

import (
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/perfgate/perfgate/bench/zoo/zoo"
)

// Routes are the service's route patterns, in registration order.
var Routes = []string{
	"GET /search",
	"GET /suggest",
	"GET /docs/{id}",
}

const (
	numShards    = 8
	docsPerShard = 24
)

var words = strings.Fields(`alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima
mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu
amber basalt cobalt dune ember fjord glacier harbor island jungle kelp lagoon meadow nebula
orchid prairie quartz reef savanna tundra umber valley willow xenon yarrow zephyr`)

// Doc is one indexed document.
type Doc struct {
	ID    int
	Title string
	Body  string
}

type shard struct {
	docs []Doc
}

// Server is the search service.
type Server struct {
	*zoo.Mux
	slow   zoo.Slowdowns
	shards []shard
	terms  []string // sorted vocabulary, for suggestions
	byID   map[int]*Doc

	reMu    sync.Mutex
	reCache map[string]*regexp.Regexp
}

func sentence(h uint64, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		h = zoo.Mix64(h)
		b.WriteString(words[h%uint64(len(words))])
	}
	return b.String()
}

// New builds the service with seeded shards and the ZOO_SLOW knobs.
func New() (*Server, error) {
	slow, err := zoo.SlowdownsFor(Routes)
	if err != nil {
		return nil, err
	}
	s := &Server{Mux: zoo.NewMux(), slow: slow, byID: map[int]*Doc{}, reCache: map[string]*regexp.Regexp{}}
	vocab := map[string]bool{}
	for sh := 0; sh < numShards; sh++ {
		var docs []Doc
		for d := 0; d < docsPerShard; d++ {
			id := sh*docsPerShard + d
			h := zoo.Mix64(uint64(id) * 31)
			docs = append(docs, Doc{ID: id, Title: sentence(h, 4), Body: sentence(h+1, 30+int(h%30))})
		}
		s.shards = append(s.shards, shard{docs: docs})
	}
	for i := range s.shards {
		for j := range s.shards[i].docs {
			d := &s.shards[i].docs[j]
			s.byID[d.ID] = d
			for _, w := range strings.Fields(d.Title) {
				for k := 1; k <= len(w); k++ {
					vocab[w[:k]+"|"+w] = true
				}
			}
		}
	}
	for t := range vocab {
		s.terms = append(s.terms, t)
	}
	sort.Strings(s.terms)
	s.Handle(Routes[0], s.search)
	s.Handle(Routes[1], s.suggest)
	s.Handle(Routes[2], s.doc)
	return s, nil
}

func (s *Server) compile(q string) (*regexp.Regexp, error) {
	s.reMu.Lock()
	defer s.reMu.Unlock()
	if re, ok := s.reCache[q]; ok {
		return re, nil
	}
	parts := strings.Fields(q)
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	re, err := regexp.Compile(`(` + strings.Join(parts, "|") + `)[a-z]*`)
	if err != nil {
		return nil, err
	}
	s.reCache[q] = re
	return re, nil
}

type hit struct {
	ID    int     `json:"id"`
	Title string  `json:"title"`
	Score float64 `json:"score"`
}

func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query().Get("q")
	re, err := s.compile(q)
	if err != nil || q == "" {
		zoo.Error(w, http.StatusBadRequest, "bad query")
		return
	}
	qh := zoo.Mix64(uint64(len(q)) * 977)
	for i := 0; i < len(q); i++ {
		qh = zoo.Mix64(qh ^ uint64(q[i]))
	}
	results := make([][]hit, len(s.shards))
	var wg sync.WaitGroup
	zoo.Phase(ctx, "fanout", s.slow[Routes[0]], func() {
		for i := range s.shards {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				// The shard's index read: 30–90 µs, seeded by query and shard.
				zoo.Sleep(time.Duration(30+zoo.Mix64(qh+uint64(i))%60) * time.Microsecond)
				var hits []hit
				for _, d := range s.shards[i].docs {
					n := len(re.FindAllStringIndex(d.Title, -1))*3 + len(re.FindAllStringIndex(d.Body[:min(len(d.Body), 64)], 4))
					if n > 0 {
						hits = append(hits, hit{d.ID, d.Title, float64(n) / float64(1+len(d.Body)/64)})
					}
				}
				results[i] = hits
			}(i)
		}
		wg.Wait()
	})
	var merged []hit
	zoo.Phase(ctx, "merge", nil, func() {
		for _, h := range results {
			merged = append(merged, h...)
		}
		sort.Slice(merged, func(a, b int) bool {
			if merged[a].Score != merged[b].Score {
				return merged[a].Score > merged[b].Score
			}
			return merged[a].ID < merged[b].ID
		})
	})
	total := len(merged)
	if len(merged) > 10 {
		merged = merged[:10]
	}
	zoo.WriteJSON(w, http.StatusOK, map[string]any{"q": q, "total": total, "hits": merged})
}

func (s *Server) suggest(w http.ResponseWriter, r *http.Request) {
	prefix := strings.ToLower(r.URL.Query().Get("prefix"))
	var out []string
	zoo.Phase(r.Context(), "lookup", s.slow[Routes[1]], func() {
		i := sort.SearchStrings(s.terms, prefix+"|")
		seen := map[string]bool{}
		for ; i < len(s.terms) && len(out) < 8; i++ {
			t := s.terms[i]
			bar := strings.IndexByte(t, '|')
			if t[:bar] != prefix {
				break
			}
			if w := t[bar+1:]; !seen[w] {
				seen[w] = true
				out = append(out, w)
			}
		}
		sort.Strings(out)
	})
	zoo.WriteJSON(w, http.StatusOK, map[string]any{"prefix": prefix, "suggestions": out})
}

var highlightTerms = regexp.MustCompile(`\b(alpha|delta|ember|glacier|harbor|meadow|orchid|quartz|tango|willow)\b`)

func (s *Server) doc(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(r.PathValue("id"))
	d, ok := s.byID[id]
	if err != nil || !ok {
		zoo.Error(w, http.StatusNotFound, "no such document")
		return
	}
	var body string
	zoo.Phase(r.Context(), "highlight", s.slow[Routes[2]], func() {
		body = highlightTerms.ReplaceAllString(d.Body, "<em>$1</em>")
		body = fmt.Sprintf("<h1>%s</h1><p>%s</p>", highlightTerms.ReplaceAllString(d.Title, "<em>$1</em>"), body)
	})
	zoo.WriteJSON(w, http.StatusOK, map[string]any{"id": d.ID, "html": body})
}
