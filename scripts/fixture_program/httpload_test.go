package fixture

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/trace"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestHTTPLoad generates a large, realistic trace for benchmarking the reader: an HTTP server
// on loopback whose handlers are annotated like a perfgate service (a task per request, a few
// regions, a log), driven by concurrent clients. Set FIXTURE_HTTP_SECONDS and run with -trace.
func TestHTTPLoad(t *testing.T) {
	secs, _ := strconv.ParseFloat(os.Getenv("FIXTURE_HTTP_SECONDS"), 64)
	if secs <= 0 {
		t.Skip("FIXTURE_HTTP_SECONDS not set")
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/orders/", func(w http.ResponseWriter, r *http.Request) {
		ctx, task := trace.NewTask(r.Context(), "GET /orders/{id}")
		defer task.End()
		var body string
		trace.WithRegion(ctx, "lookup", func() {
			spin(10 * time.Microsecond)
			body = fmt.Sprintf(`{"id":%q,"items":[1,2,3]}`, r.URL.Path)
		})
		trace.Log(ctx, "id", r.URL.Path)
		trace.WithRegion(ctx, "write", func() {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, body)
		})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Shutdown(context.Background())

	url := "http://" + ln.Addr().String() + "/orders/"
	deadline := time.Now().Add(time.Duration(secs * float64(time.Second)))
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	var wg sync.WaitGroup
	for c := 0; c < 8; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for i := 0; time.Now().Before(deadline); i++ {
				resp, err := client.Get(url + strconv.Itoa(c*1000000+i))
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}(c)
	}
	wg.Wait()
}
