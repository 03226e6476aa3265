// Package web serves quaykeeper's read-only screen: the organizations, each one's retention
// screen (every tag a run retained or pruned, with the reasons in plain words, filters,
// sorting, paging and a CSV download), an image's detail page and a run's page. Pages are
// rendered on the server with html/template, which escapes every registry-supplied name; they
// carry no script, so the screen needs no build step and its CSP allows nothing but itself.
package web

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"quaykeeper/internal/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options configure the screen.
type Options struct {
	// TemporalUIURL is the Temporal UI's base URL, e.g. http://127.0.0.1:8233. Empty means a
	// run page names its workflow without linking to it.
	TemporalUIURL string
	// Namespace is the Temporal namespace the syncs run in; empty means "default".
	Namespace string
	// Logger receives the errors behind a page that could not be shown; nil means
	// slog.Default().
	Logger *slog.Logger
}

type server struct {
	store *store.Store
	opts  Options
	log   *slog.Logger
	pages map[string]*template.Template
}

// pageFiles are the templates that render a whole page inside templates/layout.html.
var pageFiles = []string{"organizations.html", "retention.html", "image.html", "run.html",
	"error.html"}

// New returns the screen's handler. It answers GET and HEAD only, and every answer carries
// the security headers.
func New(st *store.Store, opts Options) http.Handler {
	if opts.Namespace == "" {
		opts.Namespace = "default"
	}
	s := &server{store: st, opts: opts, log: opts.Logger, pages: map[string]*template.Template{}}
	if s.log == nil {
		s.log = slog.Default()
	}
	funcs := template.FuncMap{"when": formatTime, "short": shortDigest}
	for _, name := range pageFiles {
		// The templates are embedded, so a parse error is a bug that any test shows.
		s.pages[name] = template.Must(template.New(name).Funcs(funcs).ParseFS(templateFS,
			"templates/layout.html", "templates/"+name))
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.organizations)
	mux.HandleFunc("GET /orgs/{id}", s.retention)
	mux.HandleFunc("GET /orgs/{id}/images/{digest}", s.image)
	mux.HandleFunc("GET /runs/{id}", s.run)
	mux.Handle("GET /static/", http.FileServerFS(staticFS))
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusNotFound, "There is no page at this address.")
	})
	return secure(mux)
}

// secure sets the security headers and refuses every method but GET and HEAD: the screen
// only reads.
func secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; "+
			"form-action 'self'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "the screen is read-only: use GET", http.StatusMethodNotAllowed)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// render executes a page into memory first, so a template error becomes a whole error page
// instead of half a page.
func (s *server) render(w http.ResponseWriter, r *http.Request, status int, page string,
	data any) {
	var buf bytes.Buffer
	if err := s.pages[page].ExecuteTemplate(&buf, "layout", data); err != nil {
		s.log.Error("render page", "path", r.URL.Path, "page", page, "error", err)
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

type errorPage struct {
	Title   string
	Message string
}

func (s *server) fail(w http.ResponseWriter, r *http.Request, status int, message string) {
	s.render(w, r, status, "error.html", errorPage{Title: http.StatusText(status),
		Message: message})
}

// failStore answers a store error: 404 for a row that does not exist, else 500 with the
// cause in the log only.
func (s *server) failStore(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, http.StatusNotFound, "Nothing is known under this address.")
		return
	}
	s.log.Error("read the inventory for a page", "path", r.URL.Path, "error", err)
	s.fail(w, r, http.StatusInternalServerError,
		"The inventory could not be read; the server log says why.")
}

// pathID parses a positive numeric ID from the path; any other text is an unknown page.
func pathID(r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	return id, err == nil && id > 0
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// shortDigest abbreviates "sha256:<64 hex>" to its first 12 hex digits, as registries do.
func shortDigest(d string) string {
	algo, hex, ok := strings.Cut(d, ":")
	if !ok || len(hex) <= 12 {
		return d
	}
	return algo + ":" + hex[:12]
}

// displayHost shows a connection's host without any user information it might carry.
func displayHost(host string) string {
	u, err := url.Parse(host)
	if err != nil || u.Host == "" {
		return host
	}
	u.User = nil
	return u.String()
}

// orgURL is the retention screen of an organization, with the query params given.
func orgURL(orgID int64, q url.Values) string {
	return withQuery(fmt.Sprintf("/orgs/%d", orgID), q)
}

// imageURL is the detail page of a repository's image.
func imageURL(orgID int64, repository, digest string) string {
	return withQuery(fmt.Sprintf("/orgs/%d/images/%s", orgID, url.PathEscape(digest)),
		url.Values{"repo": {repository}})
}

func runURL(id int64) string { return fmt.Sprintf("/runs/%d", id) }

func withQuery(path string, q url.Values) string {
	if enc := q.Encode(); enc != "" {
		return path + "?" + enc
	}
	return path
}

// temporalURL links a run to its workflow execution in the Temporal UI.
func (s *server) temporalURL(run store.Run) string {
	if s.opts.TemporalUIURL == "" {
		return ""
	}
	return fmt.Sprintf("%s/namespaces/%s/workflows/%s/%s/history",
		strings.TrimRight(s.opts.TemporalUIURL, "/"), url.PathEscape(s.opts.Namespace),
		url.PathEscape(run.WorkflowID), url.PathEscape(run.WorkflowRunID))
}

// byteSize shows a size in binary units, e.g. "1.0 MiB".
func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
