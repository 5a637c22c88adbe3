package perftest

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"runtime/trace"
)

// Trace wraps h: every request runs inside one runtime/trace task named after the
// http.ServeMux pattern that matched it ("GET /items/{id}"); options name tasks for other
// routers.
//
// The task begins just before h runs and ends when h returns (or panics); h sees the
// task in the request's context, so its regions and child tasks belong to it. For a
// *http.ServeMux, Trace learns the pattern with ServeMux.Handler before the task begins
// (Request.Pattern only exists from Go 1.23 on); the mux then routes the request again
// inside the task, which costs a few hundred nanoseconds. Requests the mux answers itself
// — 404 Not Found, 405 Method Not Allowed and its redirects to a canonical path — run
// without a task, so they never show up as a handler.
//
// Any other handler needs an option saying how to name its tasks: NameFunc, or
// PatternsFrom when a ServeMux sits behind middleware. Without one, Trace panics.
//
// Requests whose context comes from Warmup (as Run's warm-up requests' do) run without a
// task, and so does every request while tracing is off.
func Trace(h http.Handler, opts ...TraceOption) http.Handler {
	if h == nil {
		panic("perftest.Trace: nil handler")
	}
	t := &tracer{h: h}
	if mux, ok := h.(*http.ServeMux); ok {
		t.name = muxPattern(mux)
	}
	for _, o := range opts {
		o.apply(t)
	}
	if t.name == nil {
		panic(fmt.Sprintf("perftest.Trace: cannot name tasks for a %T: pass a *http.ServeMux, "+
			"or name them with perftest.NameFunc or perftest.PatternsFrom", h))
	}
	return t
}

// A TraceOption changes how Trace names tasks.
type TraceOption struct {
	apply func(*tracer)
}

// NameFunc makes Trace name each request's task name(r), called before the task begins.
// An empty name means the request runs without a task. Keep the names few and stable —
// route templates, not paths with ids in them — since each name is one handler in
// perfgate's baseline.
func NameFunc(name func(r *http.Request) string) TraceOption {
	return TraceOption{func(t *tracer) { t.name = name }}
}

// PatternsFrom makes Trace name tasks after the pattern of mux that matches the request,
// for when the handler given to Trace is not mux itself but wraps it, e.g. in logging or
// authentication middleware: Trace(logging(mux), PatternsFrom(mux)). The middleware then
// runs inside the task. The request must reach mux unchanged (same method, host and path).
func PatternsFrom(mux *http.ServeMux) TraceOption {
	return NameFunc(muxPattern(mux))
}

// redirectType is the type of the handler ServeMux.Handler returns for a redirect.
var redirectType = reflect.TypeOf(http.RedirectHandler("/", http.StatusMovedPermanently))

// muxPattern names a request after the pattern of mux that matches it; "" for requests the
// mux answers itself (not found, method not allowed, redirects).
func muxPattern(mux *http.ServeMux) func(*http.Request) string {
	return func(r *http.Request) string {
		h, pattern := mux.Handler(r)
		if reflect.TypeOf(h) == redirectType {
			// A redirect's "pattern" may be the redirect's target path; no handler of the
			// service runs for it. (A route registered with http.RedirectHandler is skipped
			// too: it does no work worth measuring.)
			return ""
		}
		return pattern
	}
}

type tracer struct {
	h    http.Handler
	name func(*http.Request) string
}

func (t *tracer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if !trace.IsEnabled() || isWarmup(ctx) {
		t.h.ServeHTTP(w, r)
		return
	}
	name := t.name(r)
	if name == "" {
		t.h.ServeHTTP(w, r)
		return
	}
	ctx, task := trace.NewTask(ctx, name)
	defer endTask(task, name)
	taskBegun(name)
	t.h.ServeHTTP(w, r.WithContext(ctx))
}

// Task runs f inside a runtime/trace task named name, for work that is not an HTTP request
// Trace sees: a queue worker's job, a gRPC method (name it after info.FullMethod in a
// unary interceptor), a batch step. The task begins just before f runs and ends when f
// returns or panics; f gets the task's context for its regions.
//
//	perftest.Task(ctx, "job resize-image", func(ctx context.Context) {
//		err = resize(ctx, job)
//	})
//
// Each distinct name is one handler in perfgate's baseline, so use a fixed set of names.
// With an empty name, a ctx from Warmup, or tracing off, f runs without a task.
func Task(ctx context.Context, name string, f func(ctx context.Context)) {
	if name == "" || !trace.IsEnabled() || isWarmup(ctx) {
		f(ctx)
		return
	}
	ctx, task := trace.NewTask(ctx, name)
	defer endTask(task, name)
	taskBegun(name)
	f(ctx)
}

type warmupKey struct{}

// Warmup returns a copy of ctx under which Trace and Task create no task: work done with
// it is not measured. Run uses it for its warm-up requests; a perf test that drives its
// own load (a worker, a gRPC server) uses it the same way:
//
//	for i := 0; i < 50; i++ {
//		process(perftest.Warmup(ctx), jobs[i]) // warm caches and pools, unmeasured
//	}
//	runtime.GC()
//	for i := 0; i < 300; i++ {
//		process(ctx, jobs[i]) // calls perftest.Task: measured
//	}
func Warmup(ctx context.Context) context.Context {
	return context.WithValue(ctx, warmupKey{}, true)
}

func isWarmup(ctx context.Context) bool {
	return ctx.Value(warmupKey{}) != nil
}

// testHook, set only by this package's tests, sees each task begin and end.
var testHook func(event, name string)

func taskBegun(name string) {
	if testHook != nil {
		testHook("begin", name)
	}
}

func endTask(task *trace.Task, name string) {
	task.End()
	if testHook != nil {
		testHook("end", name)
	}
}
