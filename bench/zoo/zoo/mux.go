package zoo

import (
	"net/http"
	"runtime/trace"
)

// WarmupHeader marks a perf-test warm-up request: the middleware serves it like any other
// but without a runtime/trace task, so warm-up never shows up as handler latency.
const WarmupHeader = "X-Zoo-Warmup"

// Mux is an http.ServeMux whose every route runs inside a runtime/trace task named exactly
// its pattern ("GET /items/{id}"), and which remembers its routes in registration order.
type Mux struct {
	mux    *http.ServeMux
	routes []string
}

// NewMux returns an empty Mux.
func NewMux() *Mux { return &Mux{mux: http.NewServeMux()} }

// Handle registers h for pattern (Go 1.22 syntax), wrapped in the tracing middleware.
func (m *Mux) Handle(pattern string, h http.HandlerFunc) {
	m.mux.Handle(pattern, Traced(pattern, h))
	m.routes = append(m.routes, pattern)
}

// Routes lists the registered patterns in registration order.
func (m *Mux) Routes() []string { return append([]string(nil), m.routes...) }

// ServeHTTP dispatches to the registered handler.
func (m *Mux) ServeHTTP(w http.ResponseWriter, r *http.Request) { m.mux.ServeHTTP(w, r) }

// Traced wraps h in one runtime/trace task per call, named pattern, begun before h runs and
// ended when it returns. Requests carrying WarmupHeader get no task.
func Traced(pattern string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(WarmupHeader) != "" {
			h.ServeHTTP(w, r)
			return
		}
		ctx, task := trace.NewTask(r.Context(), pattern)
		defer task.End()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}
