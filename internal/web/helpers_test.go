package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"quaykeeper/activities"
	"quaykeeper/internal/policy"
	"quaykeeper/internal/secret"
	"quaykeeper/internal/store"
	"quaykeeper/internal/testenv"
	"quaykeeper/internal/web"
)

// now is the instant every fixture run is evaluated at.
var now = time.Date(2026, 12, 4, 13, 0, 0, 0, time.UTC)

const (
	storedToken = "s3cr3t-token-never-shown"
	evilRepo    = `<script>alert(1)</script>`
	evilTag     = `"><img src=x onerror=alert(1)>`
	formulaTag  = `=HYPERLINK("http://127.0.0.1/x")`
)

type fixture struct {
	t     testing.TB
	ctx   context.Context
	url   string
	store *store.Store
	org   store.Organization
	srv   *httptest.Server
	runs  int
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	url := testenv.Database(t)
	st, err := store.Open(ctx, url, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(st.Close)
	box, err := secret.NewBox(bytes.Repeat([]byte{1}, secret.KeySize))
	require.NoError(t, err)
	conn, err := st.SaveConnection(ctx, box, store.NewConnection{Host: "https://quay.test",
		Username: "alice", TokenName: "quaykeeper-alice-20261204", Token: storedToken})
	require.NoError(t, err)
	orgs, err := st.AddOrganizations(ctx, conn.ID, []string{"acme"})
	require.NoError(t, err)
	org := orgs[0]
	srv := httptest.NewServer(web.New(st, web.Options{TemporalUIURL: "http://127.0.0.1:8233",
		Namespace: "default", Logger: slog.New(slog.DiscardHandler)}))
	t.Cleanup(srv.Close)
	return &fixture{t: t, ctx: ctx, url: url, store: st, org: org, srv: srv}
}

func ago(days int) time.Time { return now.Add(-time.Duration(days) * 24 * time.Hour) }

func tag(name, digest string, days int) store.TagRecord {
	size := int64(1 << 20)
	return store.TagRecord{Name: name, Digest: digest, Start: ago(days), Size: &size}
}

func sig(digest string) string { return "sha256-" + strings.TrimPrefix(digest, "sha256:") + ".sig" }

func dg(c byte) string { return "sha256:" + strings.Repeat(string(c), 64) }

// sample is a small organization with a retained and a pruned row of every common kind, and a
// repository whose names try to break out of the HTML.
func sample() map[string][]store.TagRecord {
	return map[string][]store.TagRecord{
		"api": {tag("v2.0.0", dg('2'), 1), tag("latest", dg('2'), 1),
			tag("v1.9.0", dg('1'), 30), tag("v1.0.0", dg('0'), 400),
			tag(sig(dg('2')), dg('c'), 1), tag(sig(dg('0')), dg('d'), 400)},
		"team/legacy": {tag("v1", dg('a'), 300), tag("v0", dg('b'), 400)},
		evilRepo:      {tag(evilTag, dg('e'), 300), tag(formulaTag, dg('f'), 400)},
	}
}

// sync does at store level what the sync workflow does: record the crawl, then decide it.
func (f *fixture) sync(repos map[string][]store.TagRecord) store.Run {
	f.t.Helper()
	t, ctx := f.t, f.ctx
	f.runs++
	run, err := f.store.StartRun(ctx, f.org.ID, "quay-sync/quay.test/acme",
		"wf-run-"+string(rune('a'+f.runs)), now)
	require.NoError(t, err)
	var records []store.RepositoryRecord
	for _, name := range slices.Sorted(maps.Keys(repos)) {
		records = append(records, store.RepositoryRecord{Name: name})
	}
	require.NoError(t, f.store.SaveRepositories(ctx, f.org.ID, run.ID, records))
	refs, err := f.store.RunRepositories(ctx, run.ID, 0, 1000)
	require.NoError(t, err)
	for _, ref := range refs {
		require.NoError(t, f.store.SaveTags(ctx, ref.ID, run.ID, repos[ref.Name]))
	}
	run, err = f.store.CompleteCrawl(ctx, run.ID)
	require.NoError(t, err)
	return f.decide(run)
}

// reevaluate decides the latest crawl again with the organization's current settings.
func (f *fixture) reevaluate() store.Run {
	f.t.Helper()
	f.runs++
	run, err := f.store.StartReevaluation(f.ctx, f.org.ID, "quay-sync/quay.test/acme",
		"wf-run-"+string(rune('a'+f.runs)), now)
	require.NoError(f.t, err)
	return f.decide(run)
}

// decide evaluates the run's crawl, then stores, applies and prunes the decisions and
// completes the run.
func (f *fixture) decide(run store.Run) store.Run {
	f.t.Helper()
	t, ctx := f.t, f.ctx
	p, err := policy.Compile(run.Settings)
	require.NoError(t, err)
	removed, err := f.store.RemovedTags(ctx, f.org.ID, run.CrawlRunID)
	require.NoError(t, err)
	sum, err := f.store.ReplaceDecisions(ctx, run.ID,
		activities.Decide(p, run.EvaluatedAt, f.store.RunTags(ctx, run.CrawlRunID), removed))
	require.NoError(t, err)
	_, err = f.store.ApplyDecisions(ctx, run.ID)
	require.NoError(t, err)
	_, err = f.store.Prune(ctx, run.ID)
	require.NoError(t, err)
	require.NoError(t, f.store.FinishRun(ctx, run.ID, sum))
	run, err = f.store.Run(ctx, run.ID)
	require.NoError(t, err)
	return run
}

// get fetches a path of the screen and returns the response and its body.
func (f *fixture) get(path string) (*http.Response, string) {
	f.t.Helper()
	return f.do(http.MethodGet, path)
}

func (f *fixture) do(method, path string) (*http.Response, string) {
	f.t.Helper()
	req, err := http.NewRequestWithContext(f.ctx, method, f.srv.URL+path, nil)
	require.NoError(f.t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(f.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(f.t, err)
	return resp, string(body)
}

// page fetches a path that must answer 200 with HTML.
func (f *fixture) page(path string) string {
	f.t.Helper()
	resp, body := f.get(path)
	require.Equal(f.t, http.StatusOK, resp.StatusCode, "GET %s:\n%s", path, body)
	require.Equal(f.t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	return body
}

// csvRows fetches a CSV download and returns its rows as "repository:tag decision reasons",
// in order, after checking the header.
func (f *fixture) csvRows(path string) []string {
	f.t.Helper()
	resp, body := f.get(path)
	require.Equal(f.t, http.StatusOK, resp.StatusCode, body)
	require.Equal(f.t, "text/csv; charset=utf-8", resp.Header.Get("Content-Type"))
	records, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	require.NoError(f.t, err)
	require.Equal(f.t, []string{"repository", "tag", "manifest_digest", "created", "decision",
		"reasons", "explanation"}, records[0])
	var rows []string
	for _, r := range records[1:] {
		rows = append(rows, r[0]+":"+r[1]+" "+r[4]+" "+r[5])
	}
	return rows
}
