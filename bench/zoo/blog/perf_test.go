package blog

import (
	"fmt"
	"math"
	"net/http"
	"testing"

	"github.com/perfgate/perfgate/bench/zoo/zoo"
)

// load: bimodal post views (cache of 48 for 90 posts, skewed popularity), 3 clients, 500 per route.
var load = zoo.Load{
	Workers:  3,
	Warmup:   100,
	PerRoute: 500,
	Requests: map[string]func(int) zoo.Request{
		"GET /posts/{slug}": func(i int) zoo.Request {
			u := float64(zoo.Mix64(uint64(i)+5)%1_000_000) / 1_000_000
			return zoo.Request{Method: "GET", Path: "/posts/" + PostSlug(int(math.Pow(u, 1.6)*numPosts)), Want: http.StatusOK}
		},
		"GET /feed": func(int) zoo.Request {
			return zoo.Request{Method: "GET", Path: "/feed", Want: http.StatusOK}
		},
		"POST /posts/{slug}/comments": func(i int) zoo.Request {
			// Published (201), duplicate (200: warm-up and later requests repeat earlier
			// comments) or held for moderation (202): any 2xx.
			text := fmt.Sprintf("Nice write-up on tail latency, part %d.", i%300)
			if i%11 == 0 {
				text = "free money, click here"
			}
			body := fmt.Sprintf(`{"author":"reader%d","email":"reader%d@example.org","text":%q}`, i%50, i%50, text)
			return zoo.Request{Method: "POST", Path: "/posts/" + PostSlug(i*7) + "/comments", Body: []byte(body)}
		},
		"GET /tags": func(int) zoo.Request {
			return zoo.Request{Method: "GET", Path: "/tags", Want: http.StatusOK}
		},
	},
}

func TestPerfBlog(t *testing.T) {
	if testing.Short() {
		t.Skip("perf test skipped in -short mode")
	}
	s, err := New()
	if err != nil {
		t.Fatal(err)
	}
	zoo.RunPerf(t, s, Routes, load)
}

func TestRoutesAnswer(t *testing.T) {
	s, err := New()
	if err != nil {
		t.Fatal(err)
	}
	zoo.CheckRoutes(t, s, Routes, load)
}
