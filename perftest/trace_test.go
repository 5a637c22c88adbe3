package perftest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime/trace"
	"strings"
	"sync"
	"testing"
)

// taskLog records, in order, the tasks begun and ended (through testHook) and whatever
// the handlers under test add to it.
type taskLog struct {
	mu     sync.Mutex
	events []string
}

func (l *taskLog) add(event string) {
	l.mu.Lock()
	l.events = append(l.events, event)
	l.mu.Unlock()
}

// take returns the events so far and forgets them.
func (l *taskLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	ev := l.events
	l.events = nil
	return ev
}

// count returns how many events equal event.
func (l *taskLog) count(event string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, e := range l.events {
		if e == event {
			n++
		}
	}
	return n
}

// startTracing turns the execution tracer on for the test (unless go test -trace already
// did): Trace and Task only create tasks while tracing.
func startTracing(t *testing.T) {
	t.Helper()
	if trace.IsEnabled() {
		return
	}
	if err := trace.Start(io.Discard); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(trace.Stop)
}

// recordTasks turns tracing on and logs every task's begin and end.
func recordTasks(t *testing.T) *taskLog {
	t.Helper()
	startTracing(t)
	l := &taskLog{}
	testHook = func(event, name string) { l.add(event + " " + name) }
	t.Cleanup(func() { testHook = nil })
	return l
}

func serve(h http.Handler, method, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}

func equal(a, b []string) bool {
	return strings.Join(a, "\n") == strings.Join(b, "\n")
}

func TestTraceNamesTasksAfterTheMatchingPattern(t *testing.T) {
	log := recordTasks(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		log.add("handler item " + r.PathValue("id")) // the mux set the path values
	})
	mux.HandleFunc("POST /items", func(w http.ResponseWriter, r *http.Request) { log.add("handler post") })
	mux.HandleFunc("/static/", func(w http.ResponseWriter, r *http.Request) { log.add("handler static") })
	h := Trace(mux)

	cases := []struct {
		method, target string
		status         int // a single digit: any status of that class
		want           []string
	}{
		{"GET", "/items/42", 200, []string{"begin GET /items/{id}", "handler item 42", "end GET /items/{id}"}},
		{"HEAD", "/items/7", 200, []string{"begin GET /items/{id}", "handler item 7", "end GET /items/{id}"}},
		{"POST", "/items", 200, []string{"begin POST /items", "handler post", "end POST /items"}},
		{"GET", "/static/css/a.css", 200, []string{"begin /static/", "handler static", "end /static/"}},
		// Answered by the mux itself: no task.
		{"GET", "/nothing", 404, nil},
		{"DELETE", "/items/42", 405, nil},
		{"GET", "/static", 3, nil},            // redirect to /static/ (301 or 307 by Go version)
		{"GET", "/items//../items/1", 3, nil}, // redirect to the cleaned path
	}
	for _, c := range cases {
		rec := serve(h, c.method, c.target)
		if rec.Code != c.status && rec.Code/100 != c.status {
			t.Errorf("%s %s: status %d, want %d", c.method, c.target, rec.Code, c.status)
		}
		if got := log.take(); !equal(got, c.want) {
			t.Errorf("%s %s: events %q, want %q", c.method, c.target, got, c.want)
		}
	}
}

func TestTraceEndsTheTaskWhenTheHandlerPanics(t *testing.T) {
	log := recordTasks(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /boom", func(http.ResponseWriter, *http.Request) { panic("boom") })
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Errorf("recovered %v, want the handler's panic", r)
			}
		}()
		serve(Trace(mux), "GET", "/boom")
	}()
	if got, want := log.take(), []string{"begin GET /boom", "end GET /boom"}; !equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
}

func TestTraceWarmupMakesNoTask(t *testing.T) {
	log := recordTasks(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /x", func(http.ResponseWriter, *http.Request) { log.add("handler") })
	req := httptest.NewRequest("GET", "/x", nil)
	Trace(mux).ServeHTTP(httptest.NewRecorder(), req.WithContext(Warmup(req.Context())))
	if got := log.take(); !equal(got, []string{"handler"}) {
		t.Errorf("events %q, want the handler alone", got)
	}
}

func TestTracingOffMakesNoTask(t *testing.T) {
	if trace.IsEnabled() {
		t.Skip("the execution tracer is on (go test -trace)")
	}
	log := &taskLog{}
	testHook = func(event, name string) { log.add(event + " " + name) }
	defer func() { testHook = nil }()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /x", func(http.ResponseWriter, *http.Request) { log.add("handler") })
	serve(Trace(mux), "GET", "/x")
	Task(context.Background(), "job", func(context.Context) { log.add("job") })
	if got := log.take(); !equal(got, []string{"handler", "job"}) {
		t.Errorf("events %q, want the handler and the job alone", got)
	}
}

// TestTraceWritesRealTasks checks the execution trace itself: a task's name is in the
// trace's string table only when a task of that name was created.
func TestTraceWritesRealTasks(t *testing.T) {
	if trace.IsEnabled() {
		t.Skip("the execution tracer is already on (go test -trace)")
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /measured/{id}", func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc("GET /warmed/{id}", func(http.ResponseWriter, *http.Request) {})
	h := Trace(mux)

	var buf bytes.Buffer
	if err := trace.Start(&buf); err != nil {
		t.Fatal(err)
	}
	serve(h, "GET", "/measured/1")
	req := httptest.NewRequest("GET", "/warmed/1", nil)
	h.ServeHTTP(httptest.NewRecorder(), req.WithContext(Warmup(req.Context())))
	trace.Stop()

	if !bytes.Contains(buf.Bytes(), []byte("GET /measured/{id}")) {
		t.Errorf("the trace (%d bytes) has no task named %q", buf.Len(), "GET /measured/{id}")
	}
	if bytes.Contains(buf.Bytes(), []byte("GET /warmed/{id}")) {
		t.Errorf("the trace has a task named %q, served only as warm-up", "GET /warmed/{id}")
	}
}

func TestTraceOtherHandlersNeedAName(t *testing.T) {
	defer func() {
		msg, _ := recover().(string)
		if !strings.Contains(msg, "http.HandlerFunc") || !strings.Contains(msg, "perftest.NameFunc") {
			t.Errorf("panic %q, want one naming the handler's type and the options", msg)
		}
	}()
	Trace(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
}

func TestNameFunc(t *testing.T) {
	log := recordTasks(t)
	router := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { log.add("handler " + r.URL.Path) })
	h := Trace(router, NameFunc(func(r *http.Request) string {
		if strings.HasPrefix(r.URL.Path, "/users/") {
			return r.Method + " /users/:id"
		}
		return "" // not measured
	}))
	serve(h, "GET", "/users/9")
	serve(h, "GET", "/other")
	want := []string{"begin GET /users/:id", "handler /users/9", "end GET /users/:id", "handler /other"}
	if got := log.take(); !equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}

	// NameFunc also overrides a ServeMux's patterns.
	mux := http.NewServeMux()
	mux.HandleFunc("GET /a", func(http.ResponseWriter, *http.Request) {})
	serve(Trace(mux, NameFunc(func(*http.Request) string { return "fixed" })), "GET", "/a")
	if got, want := log.take(), []string{"begin fixed", "end fixed"}; !equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
}

func TestPatternsFromAMuxBehindMiddleware(t *testing.T) {
	log := recordTasks(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(http.ResponseWriter, *http.Request) { log.add("handler") })
	logging := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			log.add("middleware")
			next.ServeHTTP(w, r)
		})
	}
	h := Trace(logging(mux), PatternsFrom(mux))
	serve(h, "GET", "/orders/5")
	serve(h, "GET", "/nothing")
	want := []string{"begin GET /orders/{id}", "middleware", "handler", "end GET /orders/{id}", "middleware"}
	if got := log.take(); !equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
}

func TestTask(t *testing.T) {
	log := recordTasks(t)
	type key struct{}
	ctx := context.WithValue(context.Background(), key{}, "v")
	Task(ctx, "job resize", func(ctx context.Context) {
		log.add("work " + ctx.Value(key{}).(string))
	})
	Task(Warmup(ctx), "job resize", func(context.Context) { log.add("warm-up work") })
	Task(ctx, "", func(context.Context) { log.add("unnamed work") })
	want := []string{"begin job resize", "work v", "end job resize", "warm-up work", "unnamed work"}
	if got := log.take(); !equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
}
