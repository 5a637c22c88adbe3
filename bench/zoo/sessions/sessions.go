// Package sessions is a session store: one map behind one sync.RWMutex that every request
// takes, short writes (touch, create) racing long reads (the active-sessions scan), and an
// audit ring behind a second mutex.
//
// Noise: lock contention with 8 clients on 2 cores — a request's latency depends on what
// the others hold; microsecond handlers whose tails are waits for the lock.
package sessions

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"sync"

	"github.com/perfgate/perfgate/bench/zoo/zoo"
)

// Routes are the service's route patterns, in registration order.
var Routes = []string{
	"GET /sessions/{id}",
	"POST /sessions/{id}/touch",
	"POST /sessions",
	"GET /sessions/active",
}

const (
	seedSessions = 1500
	maxSessions  = 2000
	auditSize    = 1024
)

// Session is one user session.
type Session struct {
	ID      string            `json:"id"`
	User    string            `json:"user"`
	Created int64             `json:"created"`
	Seen    int64             `json:"seen"`
	Hits    int               `json:"hits"`
	Attrs   map[string]string `json:"attrs"`
}

// Server is the sessions service.
type Server struct {
	*zoo.Mux
	slow zoo.Slowdowns

	mu       sync.RWMutex
	sessions map[string]*Session
	clock    int64    // logical time: bumped by every write
	created  int      // sessions created through POST /sessions
	newest   []string // their ids, oldest first: the ones evicted past maxSessions

	auditMu sync.Mutex
	audit   [auditSize]string
	auditN  int
}

// SessionID is the id of the i-th seeded session.
func SessionID(i int) string { return fmt.Sprintf("s%06d", i) }

// New builds the service with seeded sessions and the ZOO_SLOW knobs.
func New() (*Server, error) {
	slow, err := zoo.SlowdownsFor(Routes)
	if err != nil {
		return nil, err
	}
	s := &Server{Mux: zoo.NewMux(), slow: slow, sessions: map[string]*Session{}}
	for i := 0; i < seedSessions; i++ {
		h := zoo.Mix64(uint64(i))
		s.sessions[SessionID(i)] = &Session{
			ID: SessionID(i), User: fmt.Sprintf("user%04d", h%2000), Created: int64(i), Seen: int64(i),
			Hits: int(h % 50), Attrs: map[string]string{"ua": "zoo/1.0", "lang": []string{"en", "de", "fr"}[h%3]},
		}
	}
	s.clock = seedSessions
	s.Handle(Routes[0], s.get)
	s.Handle(Routes[1], s.touch)
	s.Handle(Routes[2], s.create)
	s.Handle(Routes[3], s.active)
	return s, nil
}

func (s *Server) record(event string) {
	s.auditMu.Lock()
	s.audit[s.auditN%auditSize] = event
	s.auditN++
	s.auditMu.Unlock()
}

func (s *Server) get(w http.ResponseWriter, r *http.Request) {
	var out Session
	found := false
	zoo.Phase(r.Context(), "read", s.slow[Routes[0]], func() {
		s.mu.RLock()
		defer s.mu.RUnlock()
		if p, ok := s.sessions[r.PathValue("id")]; ok {
			out, found = *p, true
			out.Attrs = make(map[string]string, len(p.Attrs))
			for k, v := range p.Attrs {
				out.Attrs[k] = v
			}
		}
	})
	if !found {
		zoo.Error(w, http.StatusNotFound, "no such session")
		return
	}
	zoo.WriteJSON(w, http.StatusOK, out)
}

func (s *Server) touch(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var hits int
	found := false
	zoo.Phase(r.Context(), "write", s.slow[Routes[1]], func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if p, ok := s.sessions[id]; ok {
			s.clock++
			p.Seen = s.clock
			p.Hits++
			hits, found = p.Hits, true
		}
	})
	if !found {
		zoo.Error(w, http.StatusNotFound, "no such session")
		return
	}
	s.record("touch " + id)
	zoo.WriteJSON(w, http.StatusOK, map[string]any{"id": id, "hits": hits})
}

type createRequest struct {
	User  string            `json:"user"`
	Attrs map[string]string `json:"attrs"`
}

func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	var req createRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.User == "" {
		zoo.Error(w, http.StatusBadRequest, "want {\"user\": …}")
		return
	}
	var id string
	zoo.Phase(r.Context(), "token", nil, func() {
		s.mu.RLock()
		n := s.created
		s.mu.RUnlock()
		sum := sha256.Sum256([]byte(fmt.Sprintf("%s/%d/%v", req.User, n, req.Attrs)))
		for i := 0; i < 8; i++ { // key stretching
			sum = sha256.Sum256(sum[:])
		}
		id = "n" + hex.EncodeToString(sum[:8])
	})
	zoo.Phase(r.Context(), "insert", s.slow[Routes[2]], func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.clock++
		s.created++
		if _, dup := s.sessions[id]; !dup {
			s.newest = append(s.newest, id)
		}
		s.sessions[id] = &Session{ID: id, User: req.User, Created: s.clock, Seen: s.clock, Attrs: req.Attrs}
		if len(s.sessions) > maxSessions { // evict the oldest created session
			delete(s.sessions, s.newest[0])
			s.newest = s.newest[1:]
		}
	})
	s.record("create " + id)
	zoo.WriteJSON(w, http.StatusCreated, map[string]string{"id": id})
}

func (s *Server) active(w http.ResponseWriter, r *http.Request) {
	type entry struct {
		ID   string `json:"id"`
		User string `json:"user"`
		Hits int    `json:"hits"`
	}
	var top []entry
	var total, recent int
	zoo.Phase(r.Context(), "scan", s.slow[Routes[3]], func() {
		s.mu.RLock()
		cutoff := s.clock - 500
		for _, p := range s.sessions {
			total++
			if p.Seen >= cutoff {
				recent++
				top = append(top, entry{p.ID, p.User, p.Hits})
			}
		}
		s.mu.RUnlock()
		sort.Slice(top, func(a, b int) bool {
			if top[a].Hits != top[b].Hits {
				return top[a].Hits > top[b].Hits
			}
			return top[a].ID < top[b].ID
		})
		if len(top) > 20 {
			top = top[:20]
		}
	})
	zoo.WriteJSON(w, http.StatusOK, map[string]any{"total": total, "recent": recent, "top": top})
}
