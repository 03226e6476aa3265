package web

import (
	"fmt"
	"net/http"
	"strconv"

	"quaykeeper/internal/policy"
	"quaykeeper/internal/store"
)

type retentionPage struct {
	Title        string
	Org          orgRow
	Run          *runView
	Runs         []runView
	Filter       filterView
	Columns      []columnView
	Rows         []retentionRow
	Pager        pagerView
	CSVURL       string
	Repositories []string
}

type filterView struct {
	Decisions []option
	Reasons   []option
	Repo      string
	Tag       string
	Size      int
	// Hidden carries the order and the run through a filter change.
	Hidden   []hiddenField
	ClearURL string
	Active   bool
}

type option struct {
	Value    string
	Label    string
	Selected bool
}

type hiddenField struct {
	Name  string
	Value string
}

type columnView struct {
	Label string
	URL   string
	Arrow string
}

type retentionRow struct {
	Repository  string
	RepoURL     string
	Tag         string
	Digest      string
	Short       string
	ImageURL    string
	Created     string
	Decision    string
	Explanation string
}

type pagerView struct {
	Total   int
	First   int
	Last    int
	Page    int
	Pages   int
	PrevURL string
	NextURL string
	// FirstURL is set when the page asked for lies past the last row.
	FirstURL string
}

func (s *server) renderRetention(w http.ResponseWriter, r *http.Request, org store.Organization,
	run *store.Run, p retentionParams) {
	ctx := r.Context()
	page := retentionPage{Title: "Retention of " + org.Name,
		Org: newOrgRow(org), Filter: filterOf(org.ID, p)}
	runs, err := s.store.RecentRuns(ctx, org.ID, recentRunCount)
	if err != nil {
		s.failStore(w, r, err)
		return
	}
	for _, rn := range runs {
		page.Runs = append(page.Runs, newRunView(rn))
	}
	if run == nil {
		s.render(w, r, http.StatusOK, "retention.html", page)
		return
	}
	v := newRunView(*run)
	page.Run = &v
	p.query.RunID = run.ID
	decs, total, err := s.store.RetentionPage(ctx, p.query, (p.page-1)*p.size, p.size)
	if err != nil {
		s.failStore(w, r, err)
		return
	}
	if page.Repositories, err = s.store.RepositoryNames(ctx, org.ID,
		repositoryChoices); err != nil {
		s.failStore(w, r, err)
		return
	}
	for _, d := range decs {
		page.Rows = append(page.Rows, newRetentionRow(org.ID, d, run.Settings, p))
	}
	page.Columns = columnsOf(org.ID, p)
	page.Pager = newPager(total, p.page, p.size, len(decs), func(n int) string {
		at := p
		at.page = n
		return orgURL(org.ID, at.values())
	})
	csvParams := p
	csvParams.page, csvParams.size = 1, defaultPageSize
	q := csvParams.values()
	q.Set("format", "csv")
	page.CSVURL = orgURL(org.ID, q)
	s.render(w, r, http.StatusOK, "retention.html", page)
}

func newRetentionRow(orgID int64, d store.Decision, settings policy.Settings,
	p retentionParams) retentionRow {
	repoFilter := p
	repoFilter.page = 1
	repoFilter.query.Repository = d.Repository
	return retentionRow{Repository: d.Repository, RepoURL: orgURL(orgID, repoFilter.values()),
		Tag: d.Tag, Digest: d.Digest, Short: shortDigest(d.Digest),
		ImageURL: imageURL(orgID, d.Repository, d.Digest), Created: formatTime(d.Created),
		Decision: string(d.Kind), Explanation: explain(d.Kind, d.Reasons, settings)}
}

func filterOf(orgID int64, p retentionParams) filterView {
	f := filterView{Repo: p.query.Repository, Tag: p.query.TagText, Size: p.size,
		ClearURL: orgURL(orgID, nil)}
	f.Active = p.query.Kind != "" || p.query.Reason != "" || f.Repo != "" || f.Tag != ""
	f.Decisions = []option{{Value: "", Label: "retain and prune"},
		{Value: string(policy.KindRetain), Label: "retain"},
		{Value: string(policy.KindPrune), Label: "prune"}}
	for i := range f.Decisions {
		f.Decisions[i].Selected = f.Decisions[i].Value == string(p.query.Kind)
	}
	f.Reasons = []option{{Value: "", Label: "any reason", Selected: p.query.Reason == ""}}
	for _, l := range reasonLabels {
		f.Reasons = append(f.Reasons, option{Value: string(l.Reason), Label: l.Label,
			Selected: l.Reason == p.query.Reason})
	}
	if p.query.Sort != "" {
		f.Hidden = append(f.Hidden, hiddenField{"sort", string(p.query.Sort)})
	}
	if p.query.Desc {
		f.Hidden = append(f.Hidden, hiddenField{"dir", "desc"})
	}
	if p.runID != 0 {
		f.Hidden = append(f.Hidden, hiddenField{"run", strconv.FormatInt(p.runID, 10)})
	}
	return f
}

// columnsOf links each sortable header to its order; the current column's link flips the
// direction.
func columnsOf(orgID int64, p retentionParams) []columnView {
	current := p.query.Sort
	if current == "" {
		current = store.SortRepository
	}
	cols := make([]columnView, len(sortColumns))
	for i, c := range sortColumns {
		next := p
		next.page = 1
		next.query.Sort, next.query.Desc = c.Sort, false
		cols[i].Label = c.Label
		if c.Sort == current {
			next.query.Desc = !p.query.Desc
			cols[i].Arrow = "▲"
			if p.query.Desc {
				cols[i].Arrow = "▼"
			}
		}
		cols[i].URL = orgURL(orgID, next.values())
	}
	return cols
}

// newPager places a page of size rows among total; at links to a page by number.
func newPager(total, page, size, shown int, at func(int) string) pagerView {
	pv := pagerView{Total: total, Page: page, Pages: (total + size - 1) / size}
	if shown > 0 {
		pv.First = (page-1)*size + 1
		pv.Last = pv.First + shown - 1
	} else if total > 0 {
		pv.FirstURL = at(1)
	}
	if page > 1 && page <= pv.Pages {
		pv.PrevURL = at(page - 1)
	}
	if page < pv.Pages {
		pv.NextURL = at(page + 1)
	}
	return pv
}

// String describes the rows a pager shows, e.g. "rows 51–100 of 1234, page 2 of 25".
func (pv pagerView) String() string {
	if pv.Total == 0 {
		return "no rows"
	}
	if pv.First == 0 {
		return fmt.Sprintf("no rows on page %d of %d", pv.Page, pv.Pages)
	}
	return fmt.Sprintf("rows %d–%d of %d, page %d of %d", pv.First, pv.Last, pv.Total,
		pv.Page, pv.Pages)
}
