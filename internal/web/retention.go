package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"quaykeeper/internal/policy"
	"quaykeeper/internal/report"
	"quaykeeper/internal/store"
)

const (
	defaultPageSize = 50
	maxPageSize     = 500
	// recentRunCount is how many runs the retention screen lists above the rows.
	recentRunCount = 10
	// repositoryChoices bounds the names offered for the repository filter; any other name
	// can still be typed.
	repositoryChoices = 1000
)

// retentionParams are the retention screen's query params, checked.
type retentionParams struct {
	query store.RetentionQuery
	runID int64 // 0 means the latest completed run
	page  int
	size  int
	csv   bool
}

var sortColumns = []struct {
	Sort  store.RetentionSort
	Label string
}{
	{store.SortRepository, "Repository"},
	{store.SortTag, "Tag"},
	{store.SortCreated, "Created"},
	{store.SortDecision, "Decision"},
}

func parseRetention(q url.Values) (retentionParams, error) {
	p := retentionParams{page: 1, size: defaultPageSize, csv: q.Get("format") == "csv"}
	if f := q.Get("format"); f != "" && f != "csv" {
		return p, fmt.Errorf("unknown format %q: leave it out for the page, or use csv", f)
	}
	switch k := policy.Kind(q.Get("decision")); k {
	case "", policy.KindRetain, policy.KindPrune:
		p.query.Kind = k
	default:
		return p, fmt.Errorf("unknown decision %q: use retain or prune", k)
	}
	if r := policy.Reason(q.Get("reason")); r != "" && !knownReason(r) {
		return p, fmt.Errorf("unknown reason %q", r)
	}
	p.query.Reason = policy.Reason(q.Get("reason"))
	p.query.Repository = q.Get("repo")
	p.query.TagText = q.Get("tag")
	for name, v := range map[string]string{"repo": p.query.Repository, "tag": p.query.TagText} {
		// PostgreSQL refuses NUL and invalid UTF-8 in text, so they are the caller's error.
		if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
			return p, fmt.Errorf("%s holds a NUL byte or invalid UTF-8", name)
		}
	}
	p.query.Sort = store.RetentionSort(q.Get("sort"))
	known := p.query.Sort == ""
	for _, c := range sortColumns {
		known = known || c.Sort == p.query.Sort
	}
	if !known {
		return p, fmt.Errorf("unknown sort column %q", p.query.Sort)
	}
	switch q.Get("dir") {
	case "", "asc":
	case "desc":
		p.query.Desc = true
	default:
		return p, fmt.Errorf("unknown sort direction %q: use asc or desc", q.Get("dir"))
	}
	var err error
	if p.runID, err = positive(q, "run", 0); err != nil {
		return p, err
	}
	page, err := positive(q, "page", 1)
	if err != nil {
		return p, err
	}
	size, err := positive(q, "size", defaultPageSize)
	if err != nil {
		return p, err
	}
	p.page, p.size = int(page), int(min(size, maxPageSize))
	return p, nil
}

// positive parses an optional positive integer param.
func positive(q url.Values, name string, def int64) (int64, error) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%s must be a positive whole number, got %q", name, v)
	}
	return n, nil
}

// values are the params that differ from the defaults, so links stay short and a link
// carries the filters and the order of the page it is on.
func (p retentionParams) values() url.Values {
	v := url.Values{}
	set := func(name, value string) {
		if value != "" {
			v.Set(name, value)
		}
	}
	set("decision", string(p.query.Kind))
	set("reason", string(p.query.Reason))
	set("repo", p.query.Repository)
	set("tag", p.query.TagText)
	set("sort", string(p.query.Sort))
	if p.query.Desc {
		v.Set("dir", "desc")
	}
	if p.runID != 0 {
		v.Set("run", strconv.FormatInt(p.runID, 10))
	}
	if p.size != defaultPageSize {
		v.Set("size", strconv.Itoa(p.size))
	}
	if p.page != 1 {
		v.Set("page", strconv.Itoa(p.page))
	}
	return v
}

func (s *server) retention(w http.ResponseWriter, r *http.Request) {
	orgID, ok := pathID(r, "id")
	if !ok {
		s.fail(w, r, http.StatusNotFound, "There is no organization with this ID.")
		return
	}
	org, err := s.store.Organization(r.Context(), orgID)
	if err != nil {
		s.failStore(w, r, err)
		return
	}
	p, err := parseRetention(r.URL.Query())
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	run, err := s.retentionRun(r, org, p.runID)
	switch {
	case errors.Is(err, store.ErrNotFound) && p.runID == 0 && !p.csv:
		s.renderRetention(w, r, org, nil, p)
	case err != nil:
		s.failStore(w, r, err)
	case p.csv:
		s.writeCSV(w, r, org, run, p)
	default:
		s.renderRetention(w, r, org, &run, p)
	}
}

// retentionRun is the run the screen shows: the one asked for, which must belong to the
// organization, or else the latest completed one.
func (s *server) retentionRun(r *http.Request, org store.Organization, runID int64) (
	store.Run, error) {
	if runID == 0 {
		return s.store.LatestRun(r.Context(), org.ID, store.RunCompleted)
	}
	run, err := s.store.Run(r.Context(), runID)
	if err == nil && run.OrganizationID != org.ID {
		return run, fmt.Errorf("run %d of organization %d: %w", runID, org.ID, store.ErrNotFound)
	}
	return run, err
}

// writeCSV streams the filtered rows in the page's order, without paging, as PostgreSQL sends
// them.
func (s *server) writeCSV(w http.ResponseWriter, r *http.Request, org store.Organization,
	run store.Run, p retentionParams) {
	name := fmt.Sprintf("%s-run-%d-retention.csv", fileSafe(org.Name), run.ID)
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	if r.Method == http.MethodHead {
		return
	}
	p.query.RunID = run.ID
	cw := report.NewCSVWriter(w)
	cw.Write([]string{"repository", "tag", "manifest_digest", "created", "decision",
		"reasons", "explanation"})
	for d, err := range s.store.RetentionRows(r.Context(), p.query) {
		if err != nil {
			s.log.Error("stream retention CSV", "runId", run.ID, "error", err)
			// Aborting breaks the chunked response, so the client sees a failed download
			// rather than a file that looks complete.
			panic(http.ErrAbortHandler)
		}
		reasons := make([]string, len(d.Reasons))
		for i, reason := range d.Reasons {
			reasons[i] = string(reason)
		}
		cw.Write([]string{d.Repository, d.Tag, d.Digest,
			d.Created.Format(time.RFC3339), string(d.Kind), strings.Join(reasons, ";"),
			explain(d.Kind, d.Reasons, run.Settings)})
	}
	if err := cw.Flush(); err != nil {
		s.log.Warn("write retention CSV", "runId", run.ID, "error", err)
	}
}

// fileSafe keeps the letters, digits, dots, dashes and underscores of a name for a download's
// file name, which sits in a header.
func fileSafe(name string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9',
			r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, name)
}
