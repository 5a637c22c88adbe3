// Package blog serves a blog: posts written in a small Markdown dialect are rendered with
// regexps and text/template on first request and kept in a small render cache, so a post
// view is either a cache hit (microseconds) or a full render (hundreds of microseconds); an
// XML feed; comments validated with regexps and deduplicated by sha256.
//
// Noise: bimodal latencies (render cache hit/miss under a working set larger than the
// cache), regexp and template CPU work, a mutex around the cache and the comment store.
package blog

import (
	"crypto/sha256"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"text/template"

	"github.com/perfgate/perfgate/bench/zoo/zoo"
)

// Routes are the service's route patterns, in registration order.
var Routes = []string{
	"GET /posts/{slug}",
	"GET /feed",
	"POST /posts/{slug}/comments",
	"GET /tags",
}

const (
	numPosts      = 90
	cacheCapacity = 48
)

var vocabulary = strings.Fields(`go latency tail percentile queue mutex channel goroutine heap
garbage collector scheduler trace region task handler service p95 regression noise runner
benchmark baseline bootstrap interval median variance cache miss hit kernel thread timer`)

// Post is one blog post.
type Post struct {
	Slug     string
	Title    string
	Tags     []string
	Markdown string
	Comments []string
}

// PostSlug is the slug of the i-th seeded post.
func PostSlug(i int) string { return fmt.Sprintf("post-%03d", i%numPosts) }

var (
	reHeading = regexp.MustCompile(`(?m)^## (.+)$`)
	reBold    = regexp.MustCompile(`\*\*([^*]+)\*\*`)
	reCode    = regexp.MustCompile("`([^`]+)`")
	reLink    = regexp.MustCompile(`\[([^\]]+)\]\((https?://[^)]+)\)`)
	reEmail   = regexp.MustCompile(`^[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}$`)
	reSpam    = regexp.MustCompile(`(?i)(casino|viagra|free money|click here|crypto giveaway)`)
	pageTmpl  = template.Must(template.New("post").Parse(`<!doctype html><html><head><title>{{.Title}}</title></head>
<body><article><h1>{{.Title}}</h1><ul class="tags">{{range .Tags}}<li>{{.}}</li>{{end}}</ul>
{{range .Paragraphs}}<p>{{.}}</p>
{{end}}</article><section class="comments">{{len .Comments}} comments{{range .Comments}}<blockquote>{{.}}</blockquote>{{end}}</section></body></html>`))
)

// Server is the blog service.
type Server struct {
	*zoo.Mux
	slow zoo.Slowdowns

	posts map[string]*Post
	order []string // slugs, newest first

	mu     sync.Mutex
	cache  map[string]string // slug -> rendered page
	queue  []string          // FIFO eviction order
	hashes map[[32]byte]bool // comment dedupe
}

// New builds the service with seeded posts and the ZOO_SLOW knobs.
func New() (*Server, error) {
	slow, err := zoo.SlowdownsFor(Routes)
	if err != nil {
		return nil, err
	}
	s := &Server{Mux: zoo.NewMux(), slow: slow, posts: map[string]*Post{}, cache: map[string]string{}, hashes: map[[32]byte]bool{}}
	for i := 0; i < numPosts; i++ {
		h := zoo.Mix64(uint64(i) + 99)
		word := func(k uint64) string { return vocabulary[zoo.Mix64(h+k)%uint64(len(vocabulary))] }
		var md strings.Builder
		for sec := 0; sec < 3+int(h%3); sec++ {
			fmt.Fprintf(&md, "## %s and %s\n", word(uint64(sec)), word(uint64(sec)+50))
			for para := 0; para < 3; para++ {
				for w := 0; w < 40; w++ {
					k := uint64(sec*1000 + para*100 + w)
					switch zoo.Mix64(h^k) % 17 {
					case 0:
						fmt.Fprintf(&md, "**%s** ", word(k))
					case 1:
						fmt.Fprintf(&md, "`%s()` ", word(k))
					case 2:
						fmt.Fprintf(&md, "[%s](https://example.org/%s) ", word(k), word(k+1))
					default:
						md.WriteString(word(k) + " ")
					}
				}
				md.WriteString("\n\n")
			}
		}
		p := &Post{Slug: PostSlug(i), Title: strings.Title(word(1) + " " + word(2)), Tags: []string{word(3), word(4)}, Markdown: md.String()} //nolint:staticcheck
		s.posts[p.Slug] = p
		s.order = append(s.order, p.Slug)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(s.order)))
	s.Handle(Routes[0], s.showPost)
	s.Handle(Routes[1], s.feed)
	s.Handle(Routes[2], s.comment)
	s.Handle(Routes[3], s.tags)
	return s, nil
}

// render turns a post's Markdown into an HTML page.
func render(p *Post, comments []string) (string, error) {
	body := html.EscapeString(p.Markdown)
	body = reHeading.ReplaceAllString(body, "<h2>$1</h2>")
	body = reBold.ReplaceAllString(body, "<strong>$1</strong>")
	body = reCode.ReplaceAllString(body, "<code>$1</code>")
	body = reLink.ReplaceAllString(body, `<a href="$2">$1</a>`)
	var paras []string
	for _, para := range strings.Split(body, "\n\n") {
		if para = strings.TrimSpace(para); para != "" {
			paras = append(paras, para)
		}
	}
	var out strings.Builder
	err := pageTmpl.Execute(&out, map[string]any{"Title": p.Title, "Tags": p.Tags, "Paragraphs": paras, "Comments": comments})
	return out.String(), err
}

func (s *Server) showPost(w http.ResponseWriter, r *http.Request) {
	slug := r.PathValue("slug")
	p, ok := s.posts[slug]
	if !ok {
		zoo.Error(w, http.StatusNotFound, "no such post")
		return
	}
	var page string
	var err error
	zoo.Phase(r.Context(), "render", s.slow[Routes[0]], func() {
		s.mu.Lock()
		cached, hit := s.cache[slug]
		comments := append([]string(nil), p.Comments...)
		s.mu.Unlock()
		if hit {
			page = cached
			return
		}
		if page, err = render(p, comments); err != nil {
			return
		}
		s.mu.Lock()
		if _, dup := s.cache[slug]; !dup {
			s.cache[slug] = page
			s.queue = append(s.queue, slug)
			if len(s.queue) > cacheCapacity {
				delete(s.cache, s.queue[0])
				s.queue = s.queue[1:]
			}
		}
		s.mu.Unlock()
	})
	if err != nil {
		zoo.Error(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte(page))
}

type rssItem struct {
	Title       string   `xml:"title"`
	Link        string   `xml:"link"`
	Description string   `xml:"description"`
	Categories  []string `xml:"category"`
}

type rss struct {
	XMLName xml.Name  `xml:"rss"`
	Version string    `xml:"version,attr"`
	Title   string    `xml:"channel>title"`
	Items   []rssItem `xml:"channel>item"`
}

func (s *Server) feed(w http.ResponseWriter, r *http.Request) {
	var out []byte
	var err error
	zoo.Phase(r.Context(), "encode", s.slow[Routes[1]], func() {
		feed := rss{Version: "2.0", Title: "zoo blog"}
		for _, slug := range s.order[:15] {
			p := s.posts[slug]
			feed.Items = append(feed.Items, rssItem{Title: p.Title, Link: "https://blog.example/" + slug,
				Description: p.Markdown[:min(400, len(p.Markdown))], Categories: p.Tags})
		}
		out, err = xml.Marshal(feed)
	})
	if err != nil {
		zoo.Error(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/rss+xml")
	_, _ = w.Write(out)
}

type commentRequest struct {
	Author string `json:"author"`
	Email  string `json:"email"`
	Text   string `json:"text"`
}

func (s *Server) comment(w http.ResponseWriter, r *http.Request) {
	p, ok := s.posts[r.PathValue("slug")]
	if !ok {
		zoo.Error(w, http.StatusNotFound, "no such post")
		return
	}
	var c commentRequest
	if err := json.NewDecoder(r.Body).Decode(&c); err != nil {
		zoo.Error(w, http.StatusBadRequest, err.Error())
		return
	}
	status, verdict := http.StatusCreated, "published"
	zoo.Phase(r.Context(), "moderate", s.slow[Routes[2]], func() {
		switch {
		case !reEmail.MatchString(strings.ToLower(c.Email)):
			status, verdict = http.StatusBadRequest, "bad email"
			return
		case reSpam.MatchString(c.Text):
			status, verdict = http.StatusAccepted, "held for moderation"
			return
		}
		sum := sha256.Sum256([]byte(p.Slug + "\x00" + c.Email + "\x00" + c.Text))
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.hashes[sum] {
			status, verdict = http.StatusOK, "duplicate"
			return
		}
		s.hashes[sum] = true
		if len(p.Comments) < 20 {
			p.Comments = append(p.Comments, html.EscapeString(c.Author+": "+c.Text))
		}
	})
	zoo.WriteJSON(w, status, map[string]string{"status": verdict})
}

func (s *Server) tags(w http.ResponseWriter, r *http.Request) {
	type tagCount struct {
		Tag   string `json:"tag"`
		Posts int    `json:"posts"`
	}
	var out []tagCount
	zoo.Phase(r.Context(), "count", s.slow[Routes[3]], func() {
		counts := map[string]int{}
		for _, p := range s.posts {
			for _, t := range p.Tags {
				counts[t]++
			}
		}
		for t, n := range counts {
			out = append(out, tagCount{t, n})
		}
		sort.Slice(out, func(a, b int) bool {
			if out[a].Posts != out[b].Posts {
				return out[a].Posts > out[b].Posts
			}
			return out[a].Tag < out[b].Tag
		})
	})
	zoo.WriteJSON(w, http.StatusOK, out)
}
