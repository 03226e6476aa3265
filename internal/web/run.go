package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"quaykeeper/internal/store"
)

type runPage struct {
	Title         string
	OrgName       string
	OrgURL        string
	Run           runView
	WorkflowID    string
	WorkflowRunID string
	TemporalURL   string
	EvaluatedAt   string
	CrawlComplete bool
	RetentionURL  string
	// Previous is nil for an organization's first run.
	Previous *runView
	Counts   store.ChangeCounts
	Filters  []option
	Changes  []changeRow
	Pager    pagerView
}

type changeRow struct {
	Change      string
	Repository  string
	Tag         string
	Short       string
	ImageURL    string
	Before      string
	After       string
	Explanation string
}

var changeLabels = []struct {
	Change store.Change
	Label  string
}{
	{"", "all changes"},
	{store.ChangeNew, "new"},
	{store.ChangePruned, "newly pruned"},
	{store.ChangeDecision, "decision changed"},
}

func (s *server) run(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, ok := pathID(r, "id")
	if !ok {
		s.fail(w, r, http.StatusNotFound, "There is no run with this ID.")
		return
	}
	run, err := s.store.Run(ctx, id)
	if err != nil {
		s.failStore(w, r, err)
		return
	}
	org, err := s.store.Organization(ctx, run.OrganizationID)
	if err != nil {
		s.failStore(w, r, err)
		return
	}
	change, pageNo, err := parseRunParams(r.URL.Query())
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	page := runPage{Title: fmt.Sprintf("Run %d of %s", run.ID, org.Name), OrgName: org.Name,
		OrgURL: orgURL(org.ID, nil), Run: newRunView(run), WorkflowID: run.WorkflowID,
		WorkflowRunID: run.WorkflowRunID, TemporalURL: s.temporalURL(run),
		EvaluatedAt: formatTime(run.EvaluatedAt), CrawlComplete: run.CrawlComplete}
	if run.Status == store.RunCompleted {
		page.RetentionURL = orgURL(org.ID, url.Values{"run": {strconv.FormatInt(run.ID, 10)}})
	}
	prev, err := s.store.PreviousCompletedRun(ctx, run)
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.render(w, r, http.StatusOK, "run.html", page)
		return
	case err != nil:
		s.failStore(w, r, err)
		return
	}
	pv := newRunView(prev)
	page.Previous = &pv
	if page.Counts, err = s.store.RunChangeCounts(ctx, run.ID, prev.ID); err != nil {
		s.failStore(w, r, err)
		return
	}
	changes, err := s.store.RunChanges(ctx, run.ID, prev.ID, change,
		(pageNo-1)*defaultPageSize, defaultPageSize)
	if err != nil {
		s.failStore(w, r, err)
		return
	}
	for _, c := range changes {
		page.Changes = append(page.Changes, changeRow{Change: string(c.Change),
			Repository: c.Repository, Tag: c.Tag, Short: shortDigest(c.Digest),
			ImageURL: imageURL(org.ID, c.Repository, c.Digest), Before: string(c.Before),
			After: string(c.After), Explanation: explain(c.After, c.Reasons, run.Settings)})
	}
	total := map[store.Change]int{"": page.Counts.New + page.Counts.Pruned +
		page.Counts.Changed, store.ChangeNew: page.Counts.New,
		store.ChangePruned: page.Counts.Pruned, store.ChangeDecision: page.Counts.Changed}
	at := func(c store.Change, n int) string {
		q := url.Values{}
		if c != "" {
			q.Set("change", string(c))
		}
		if n > 1 {
			q.Set("page", strconv.Itoa(n))
		}
		return withQuery(runURL(run.ID), q)
	}
	for _, l := range changeLabels {
		page.Filters = append(page.Filters, option{Value: at(l.Change, 1),
			Label: fmt.Sprintf("%s (%d)", l.Label, total[l.Change]), Selected: l.Change == change})
	}
	page.Pager = newPager(total[change], pageNo, defaultPageSize, len(changes), func(n int) string {
		return at(change, n)
	})
	s.render(w, r, http.StatusOK, "run.html", page)
}

func parseRunParams(q url.Values) (store.Change, int, error) {
	change := store.Change(q.Get("change"))
	switch change {
	case "", store.ChangeNew, store.ChangePruned, store.ChangeDecision:
	default:
		return "", 0, fmt.Errorf("unknown change %q: use new, pruned or changed", change)
	}
	page, err := positive(q, "page", 1)
	return change, int(page), err
}
