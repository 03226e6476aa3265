package web

import (
	"fmt"
	"net/http"
	"time"

	"quaykeeper/internal/store"
)

type organizationsPage struct {
	Title string
	Orgs  []orgRow
}

type orgRow struct {
	Name     string
	Host     string
	URL      string
	Settings settingsView
	Schedule string
	Paused   bool
	// NeedsToken is set when Quay rejected the connection's token and syncs wait for a new
	// one.
	NeedsToken bool
	Latest     *runView
	Completed  *runView
}

// settingsView shows an organization's or a run's retention settings.
type settingsView struct {
	TagRegex   string
	AgeMonths  int
	KeepLatest int
}

func (s *server) organizations(w http.ResponseWriter, r *http.Request) {
	overviews, err := s.store.OrganizationOverviews(r.Context())
	if err != nil {
		s.failStore(w, r, err)
		return
	}
	conns, err := s.store.Connections(r.Context())
	if err != nil {
		s.failStore(w, r, err)
		return
	}
	needsToken := map[int64]bool{}
	for _, c := range conns {
		needsToken[c.ID] = c.NeedsToken
	}
	page := organizationsPage{Title: "Organizations"}
	for _, o := range overviews {
		row := newOrgRow(o.Organization)
		row.NeedsToken = needsToken[o.ConnectionID]
		if o.LatestRun != nil {
			v := newRunView(*o.LatestRun)
			row.Latest = &v
		}
		if o.LatestCompleted != nil {
			v := newRunView(*o.LatestCompleted)
			row.Completed = &v
		}
		page.Orgs = append(page.Orgs, row)
	}
	s.render(w, r, http.StatusOK, "organizations.html", page)
}

func newOrgRow(o store.Organization) orgRow {
	return orgRow{Name: o.Name, Host: displayHost(o.Host), URL: orgURL(o.ID, nil),
		Settings: settingsView{TagRegex: o.Settings.TagRegex,
			AgeMonths: o.Settings.AgeThresholdMonths, KeepLatest: o.Settings.KeepLatest},
		Schedule: o.Schedule.Normalize().String(), Paused: o.Paused}
}

// runView is a run as the pages show it.
type runView struct {
	ID     int64
	URL    string
	Status string
	// Crawl names the run whose crawl a re-evaluation decided; empty for a sync.
	Crawl        string
	CrawlURL     string
	Started      string
	Finished     string
	Duration     string
	Settings     settingsView
	Repositories int
	Tags         int
	Summary      store.Summary
	Error        string
}

func newRunView(r store.Run) runView {
	v := runView{ID: r.ID, URL: runURL(r.ID), Status: r.Status, Started: formatTime(r.StartedAt),
		Settings: settingsView{TagRegex: r.Settings.TagRegex,
			AgeMonths: r.Settings.AgeThresholdMonths, KeepLatest: r.Settings.KeepLatest},
		Repositories: r.Repositories, Tags: r.Tags, Summary: r.Summary, Error: r.Error}
	if r.CrawlRunID != 0 && r.CrawlRunID != r.ID {
		v.Crawl, v.CrawlURL = fmt.Sprintf("run %d", r.CrawlRunID), runURL(r.CrawlRunID)
	}
	if r.FinishedAt != nil {
		v.Finished = formatTime(*r.FinishedAt)
		v.Duration = roundDuration(r.FinishedAt.Sub(r.StartedAt)).String()
	}
	return v
}

// roundDuration keeps milliseconds for a quick run, whole seconds for a long one.
func roundDuration(d time.Duration) time.Duration {
	if d < 10*time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Second)
}
