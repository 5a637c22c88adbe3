package main

import (
	"net/http"
	"runtime/trace"
	"time"
)

type healthView struct {
	Status        string  `json:"status"`
	Products      int     `json:"products"`
	Orders        int     `json:"orders"`
	UptimeSeconds float64 `json:"uptime_seconds"`
}

// checkHealth gathers the health report. It is the whole cost of GET /healthz, so a perf
// test slows that handler here.
func (s *Server) checkHealth() healthView {
	return healthView{
		Status:        "ok",
		Products:      len(s.catalog.products),
		Orders:        s.orders.count(),
		UptimeSeconds: time.Since(s.started).Round(time.Millisecond).Seconds(),
	}
}

// handleHealthz serves GET /healthz.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	var h healthView
	trace.WithRegion(r.Context(), "check", func() { h = s.checkHealth() })
	writeJSON(w, http.StatusOK, h)
}
