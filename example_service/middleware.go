package main

import (
	"net/http"
	"runtime/trace"
)

// WarmupHeader marks a perf-test warm-up request. When the server is built with
// Options.HonorWarmupHeader, the tracing middleware serves such a request exactly like any
// other but creates no runtime/trace task for it, so warm-up calls never show up as
// handler latencies in the trace. Production servers ignore the header.
const WarmupHeader = "X-Perfgate-Warmup"

// traced wraps h in a runtime/trace task named pattern (the route pattern, e.g.
// "GET /orders/{id}"): one task per handler call, begun before h runs and ended when it
// returns, even if it panics. Handlers mark their phases with regions on the request's
// context, which carries the task. The pattern is passed in at registration because
// Request.Pattern only exists from Go 1.23 on.
//
// The task covers the handler call only: reading and parsing the request line and headers
// happen before, and flushing the buffered response after.
func (s *Server) traced(pattern string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.opts.HonorWarmupHeader && r.Header.Get(WarmupHeader) != "" {
			h.ServeHTTP(w, r)
			return
		}
		ctx, task := trace.NewTask(r.Context(), pattern)
		defer task.End()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}
