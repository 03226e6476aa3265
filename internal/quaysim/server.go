package quaysim

import (
	"errors"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Route names, as used by Stats and Faults.Inject. RouteOther covers every path that matches
// no route.
const (
	RouteUser         = "user"
	RouteOrganization = "organization"
	RouteRepositories = "repositories"
	RouteTags         = "tags"
	RouteManifest     = "manifest"
	RouteSecurity     = "security"
	RouteOther        = "other"
)

const (
	apiPrefix          = "/api/v1/"
	repositoryPrefix   = apiPrefix + "repository/"
	organizationPrefix = apiPrefix + "organization/"
	libraryNamespace   = "library"
)

// Options configure a Server. The zero value is usable.
type Options struct {
	// Faults are injected from the first request on; see Server.SetFaults.
	Faults Faults
	// Now is the clock that decides which tags are alive and when page tokens expire, and
	// stamps the rows the test hooks change. Optional: defaulted to time.Now.
	Now func() time.Time
	// PageTokenKey encrypts repository-list page tokens. A 32-byte key is used as is (the raw
	// form of Quay's PAGE_TOKEN_KEY); other lengths are hashed to 32 bytes. Optional: a random
	// key, so tokens of another instance are foreign and silently restart at page 1.
	PageTokenKey []byte
	// ScanRates decide how many manifests report a status other than scanned. Optional:
	// defaulted to DefaultScanRates.
	ScanRates *ScanRates
}

// Server simulates the subset of Quay's REST API v1 a registry inventory needs. It is an
// http.Handler; all its methods are safe for concurrent use with requests.
type Server struct {
	now     func() time.Time
	pageKey fernetKey
	scan    ScanRates

	mu sync.RWMutex
	st *store

	faults faultState
	stats  statsState
	before atomic.Pointer[func(*http.Request)]
}

// New returns a server for a copy of ds, so later changes to ds do not affect it. It panics
// if ds does not pass Validate, like regexp.MustCompile: a broken fixture is a bug in the test.
func New(ds *Dataset, opts Options) *Server {
	if err := ds.Validate(); err != nil {
		panic("quaysim: " + err.Error())
	}
	s := &Server{
		now:     opts.Now,
		pageKey: newFernetKey(opts.PageTokenKey),
		scan:    DefaultScanRates,
		st:      newStore(ds.clone()),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if opts.ScanRates != nil {
		s.scan = *opts.ScanRates
	}
	s.faults.set(opts.Faults)
	return s
}

// routeMatch is the outcome of routing one path.
type routeMatch struct {
	name string
	// redirect is the path to send the client to for a missing trailing slash.
	redirect string
	// found is false for paths no route matches.
	found          bool
	ns, repo, dgst string
}

var (
	manifestPath = regexp.MustCompile(`^(.+)/manifest/([A-Za-z0-9_+.-]+:[A-Fa-f0-9]+)$`)
	securityPath = regexp.MustCompile(
		`^(.+)/manifest/([A-Za-z0-9_+.-]+:[A-Fa-f0-9]+)/security$`)
	repoPath = regexp.MustCompile(`^[^/]+(/[^/]+)*$`)
)

// route matches a path against the routes as Quay declares them, with werkzeug's strict
// slashes: a missing trailing slash redirects, an extra one matches nothing.
func route(path string) routeMatch {
	switch {
	case path == apiPrefix+"user/":
		return routeMatch{name: RouteUser, found: true}
	case path == apiPrefix+"user":
		return routeMatch{name: RouteUser, redirect: path + "/"}
	case path == apiPrefix+"repository":
		return routeMatch{name: RouteRepositories, found: true}
	case strings.HasPrefix(path, organizationPrefix):
		org := strings.TrimPrefix(path, organizationPrefix)
		if org != "" && !strings.Contains(org, "/") {
			return routeMatch{name: RouteOrganization, found: true, ns: org}
		}
	case strings.HasPrefix(path, repositoryPrefix):
		return repositoryRoute(strings.TrimPrefix(path, repositoryPrefix), path)
	}
	return routeMatch{name: RouteOther}
}

func repositoryRoute(rest, path string) routeMatch {
	m := routeMatch{name: RouteOther}
	var repo string
	if sub := securityPath.FindStringSubmatch(rest); sub != nil {
		m.name, repo, m.dgst = RouteSecurity, sub[1], sub[2]
	} else if sub := manifestPath.FindStringSubmatch(rest); sub != nil {
		m.name, repo, m.dgst = RouteManifest, sub[1], sub[2]
	} else if r, ok := strings.CutSuffix(rest, "/tag/"); ok {
		m.name, repo = RouteTags, r
	} else if r, ok := strings.CutSuffix(rest, "/tag"); ok && repoPath.MatchString(r) {
		return routeMatch{name: RouteTags, redirect: path + "/"}
	}
	if m.name == RouteOther || !repoPath.MatchString(repo) {
		return routeMatch{name: RouteOther}
	}
	m.found = true
	// util/names.py :: parse_namespace_repository: a bare name lives in the library namespace.
	m.ns, m.repo, _ = strings.Cut(repo, "/")
	if m.repo == "" {
		m.ns, m.repo = libraryNamespace, repo
	}
	return m
}

// ServeHTTP answers one request. The BeforeRequest hook and the faults come first, then the
// endpoint. The request is counted before the answer is written, so a client that has its
// answer already sees it in Stats.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m := route(r.URL.Path)
	if hook := s.before.Load(); hook != nil {
		(*hook)(r)
	}
	resp, injected := s.faults.decide(r, m.name)
	if !injected {
		resp = s.answer(r, m)
	}
	s.stats.record(m.name, resp.status)
	resp.write(w)
}

func (s *Server) answer(r *http.Request, m routeMatch) response {
	if m.redirect != "" {
		target := requestBase(r) + m.redirect
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		return redirect(target)
	}
	if !m.found {
		return notFoundPage()
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return message(http.StatusMethodNotAllowed,
			"The method is not allowed for the requested URL.")
	}
	if resp := blockedBrowser(r); resp != nil {
		return *resp
	}
	now := s.now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	id, refused := s.st.identify(r, m.name == RouteSecurity)
	if refused != nil {
		return *refused
	}
	switch m.name {
	case RouteUser:
		return s.getUser(r, id)
	case RouteOrganization:
		return s.getOrganization(r, id, m.ns)
	case RouteRepositories:
		return s.listRepositories(r, id, now)
	case RouteTags:
		return s.listTags(r, id, m, now.Unix())
	case RouteManifest:
		return s.getManifest(r, id, m, now.Unix())
	default:
		return s.getSecurity(r, id, m, now.Unix())
	}
}

// truthy is util/parsing.py :: truthy_bool: anything but these spellings of false is true,
// so public=no means public. An absent parameter takes the default.
func truthy(q url.Values, name string, def bool) bool {
	if !q.Has(name) {
		return def
	}
	switch q.Get(name) {
	case "false", "False", "FALSE", "0", "", "null":
		return false
	}
	return true
}

// intParam parses an integer query parameter like Python's int(): surrounding whitespace and
// a sign are allowed, and values beyond int64 saturate instead of failing, since Python
// integers do not overflow. ok is false when the value is not an integer at all.
func intParam(q url.Values, name string, def int64) (v int64, ok bool) {
	if !q.Has(name) {
		return def, true
	}
	raw := strings.TrimSpace(q.Get(name))
	v, err := strconv.ParseInt(raw, 10, 64)
	if errors.Is(err, strconv.ErrRange) {
		if strings.HasPrefix(raw, "-") {
			return math.MinInt64, true
		}
		return math.MaxInt64, true
	}
	return v, err == nil
}
