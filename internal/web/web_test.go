package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"quaykeeper/internal/policy"
	"quaykeeper/internal/schedule"
	"quaykeeper/internal/store"
)

// sampleRows are the sample's rows on the retention screen, by repository then tag.
var sampleRows = []string{
	evilRepo + ":" + evilTag + " retain dormant_repository;latest_image",
	evilRepo + ":" + "'" + formulaTag + " retain dormant_repository",
	"api:" + sig(dg('0')) + " prune accessory",
	"api:" + sig(dg('2')) + " retain accessory",
	"api:v1.0.0 prune older_than_threshold",
	"api:v1.9.0 retain not_selected",
	"team/legacy:v0 retain dormant_repository",
	"team/legacy:v1 retain dormant_repository;latest_image",
}

func TestScreenShowsOrganizationsAndRetention(t *testing.T) {
	f := newFixture(t)
	body := f.page("/")
	require.Contains(t, body, ">acme</a>")
	require.Contains(t, body, "never synced")
	body = f.page(fmt.Sprintf("/orgs/%d", f.org.ID))
	require.Contains(t, body, "No run of this organization has completed yet")

	run := f.sync(sample())
	body = f.page("/")
	require.Contains(t, body, fmt.Sprintf(`href="/orgs/%d"`, f.org.ID))
	require.Contains(t, body, fmt.Sprintf(`href="/runs/%d"`, run.ID))
	require.Contains(t, body, "https://quay.test")
	require.Contains(t, body, `<td class="num">10</td>`, "the run's tag count")

	body = f.page(fmt.Sprintf("/orgs/%d", f.org.ID))
	for _, words := range []string{
		"kept: pushed within 6 months but not the newest image and not matched by the tag regex",
		"pruned: older than 6 months and not the newest image",
		"kept: signature/attestation of a kept image",
		"pruned: signature/attestation of a pruned image",
		"kept: the newest image of a dormant repository (no push in 6 months)",
		"kept: the repository had no push in 6 months",
	} {
		require.Contains(t, body, words)
	}
	require.Contains(t, body, "rows 1–8 of 8, page 1 of 1")
	require.NotContains(t, body, ">v2.0.0<", "a scanned tag is not on the retention screen")
	require.Contains(t, body, ">sha256:111111111111</a>", "digests are shortened")
	require.Contains(t, body, "every 6h0m0s")
	// The order of punctuation depends on the database's collation, so only the set is
	// checked here; the store's tests check the order.
	require.ElementsMatch(t, sampleRows, f.csvRows(fmt.Sprintf("/orgs/%d?format=csv", f.org.ID)))

	require.NotContains(t, f.page("/"), "needs a new token")
	require.NoError(t, f.store.SetNeedsToken(f.ctx, f.org.ConnectionID, "Quay answered 401"))
	require.Contains(t, f.page("/"), "needs a new token")
}

func TestRetentionFiltersSortingPagingAndCSV(t *testing.T) {
	f := newFixture(t)
	f.sync(sample())
	base := fmt.Sprintf("/orgs/%d", f.org.ID)
	tests := []struct {
		name, query string
		want        []string
	}{
		{"prunes", "decision=prune", []string{sampleRows[2], sampleRows[4]}},
		{"a reason", "reason=not_selected", []string{sampleRows[5]}},
		{"a repository", "repo=team%2Flegacy", sampleRows[6:]},
		{"tag text", "tag=V1", []string{sampleRows[4], sampleRows[5], sampleRows[7]}},
		{"paging does not cut the download", "repo=api&size=2&page=2", sampleRows[2:6]},
		{"newest first", "sort=created&dir=desc&repo=api", []string{sampleRows[3],
			sampleRows[5], sampleRows[2], sampleRows[4]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, f.csvRows(base+"?format=csv&"+tt.query))
			body := f.page(base + "?" + tt.query)
			q, err := url.ParseQuery(tt.query)
			require.NoError(t, err)
			q.Del("page")
			q.Del("size")
			q.Set("format", "csv")
			require.Contains(t, body, `href="`+htmlAttr(base+"?"+q.Encode())+`"`,
				"the page links the download of its own rows")
		})
	}

	body := f.page(base + "?repo=api&size=1&page=2")
	require.Contains(t, body, "rows 2–2 of 4, page 2 of 4")
	require.Contains(t, body, `rel="prev" href="`+htmlAttr(base+"?repo=api&size=1")+`"`)
	require.Contains(t, body, `rel="next" href="`+htmlAttr(base+"?page=3&repo=api&size=1")+`"`)
	require.Contains(t, body, ">"+sig(dg('2'))+"<")
	require.NotContains(t, body, ">"+sig(dg('0'))+"<")
	body = f.page(base + "?page=9")
	require.Contains(t, body, "no rows on page 9 of 1")
	body = f.page(base + "?decision=prune")
	require.Contains(t, body, `<option value="prune" selected>`, "the form shows the filter")
	require.NotContains(t, body, "retain</td>")
	body = f.page(base + "?sort=tag")
	require.Contains(t, body, `href="`+htmlAttr(base+"?dir=desc&sort=tag")+`">Tag</a> ▲`)
	body = f.page(base + "?size=100000")
	require.Contains(t, body, `name="size" type="number" min="1" max="500" value="500"`)

	resp, _ := f.do(http.MethodHead, base+"?format=csv")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, `attachment; filename="acme-run-1-retention.csv"`,
		resp.Header.Get("Content-Disposition"))
}

// htmlAttr is how html/template writes a URL with a query into an attribute.
func htmlAttr(u string) string { return strings.ReplaceAll(u, "&", "&amp;") }

func TestRegistryNamesAreEscaped(t *testing.T) {
	f := newFixture(t)
	run := f.sync(sample())
	evil := url.QueryEscape(evilRepo)
	for _, path := range []string{
		"/",
		fmt.Sprintf("/orgs/%d", f.org.ID),
		fmt.Sprintf("/orgs/%d?repo=%s", f.org.ID, evil),
		fmt.Sprintf("/orgs/%d?tag=%s", f.org.ID, url.QueryEscape(evilTag)),
		fmt.Sprintf("/orgs/%d/images/%s?repo=%s", f.org.ID, dg('e'), evil),
		fmt.Sprintf("/runs/%d", run.ID),
	} {
		t.Run(path, func(t *testing.T) {
			body := f.page(path)
			require.NotContains(t, body, "<script>")
			require.NotContains(t, body, "<img")
		})
	}
	body := f.page(fmt.Sprintf("/orgs/%d", f.org.ID))
	require.Contains(t, body, ">&lt;script&gt;alert(1)&lt;/script&gt;</a>")
	require.Contains(t, body, ">&#34;&gt;&lt;img src=x onerror=alert(1)&gt;</td>")
	require.Contains(t, body, fmt.Sprintf(`href="/orgs/%d?repo=%s"`, f.org.ID,
		"%3Cscript%3Ealert%281%29%3C%2Fscript%3E"))
	body = f.page(fmt.Sprintf("/orgs/%d/images/%s?repo=%s", f.org.ID, dg('e'), evil))
	require.Contains(t, body, "&lt;script&gt;alert(1)&lt;/script&gt;")
	require.Contains(t, body, "kept: the newest image of a dormant repository")
	require.Contains(t, f.csvRows(fmt.Sprintf("/orgs/%d?format=csv", f.org.ID))[1],
		":'=HYPERLINK(", "a spreadsheet does not run a tag name as a formula")
}

func TestSecurityHeadersNotFoundAndMethods(t *testing.T) {
	f := newFixture(t)
	run := f.sync(sample())
	conn, err := f.store.Connection(f.ctx, f.org.ConnectionID)
	require.NoError(t, err)
	others, err := f.store.AddOrganizations(f.ctx, conn.ID, []string{"beta"})
	require.NoError(t, err)
	org := f.org
	tests := []struct {
		path   string
		status int
	}{
		{"/", http.StatusOK},
		{"/static/style.css", http.StatusOK},
		{fmt.Sprintf("/orgs/%d", others[0].ID), http.StatusOK},
		{"/orgs/999", http.StatusNotFound},
		{"/orgs/abc", http.StatusNotFound},
		{"/orgs/-1", http.StatusNotFound},
		{fmt.Sprintf("/orgs/%d?decision=scan", org.ID), http.StatusBadRequest},
		{fmt.Sprintf("/orgs/%d?sort=name%%3Bdrop", org.ID), http.StatusBadRequest},
		{fmt.Sprintf("/orgs/%d?page=0", org.ID), http.StatusBadRequest},
		{fmt.Sprintf("/orgs/%d?format=xml", org.ID), http.StatusBadRequest},
		{fmt.Sprintf("/orgs/%d?run=999", org.ID), http.StatusNotFound},
		{fmt.Sprintf("/orgs/%d?run=%d", others[0].ID, run.ID), http.StatusNotFound},
		{fmt.Sprintf("/orgs/%d?format=csv", others[0].ID), http.StatusNotFound},
		{fmt.Sprintf("/orgs/%d/images/%s?repo=api", org.ID, dg('9')), http.StatusNotFound},
		{fmt.Sprintf("/orgs/%d/images/%s", org.ID, dg('2')), http.StatusNotFound},
		{fmt.Sprintf("/orgs/%d/images/%s?repo=api", org.ID, dg('2')), http.StatusOK},
		{fmt.Sprintf("/runs/%d", run.ID), http.StatusOK},
		{"/runs/999", http.StatusNotFound},
		{fmt.Sprintf("/runs/%d?change=gone", run.ID), http.StatusBadRequest},
		{"/nowhere", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, body := f.get(tt.path)
			require.Equal(t, tt.status, resp.StatusCode, body)
			requireSecurityHeaders(t, resp)
			if tt.status != http.StatusOK {
				require.Contains(t, body, "<h1>"+http.StatusText(tt.status)+"</h1>")
			}
		})
	}
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		resp, _ := f.do(method, fmt.Sprintf("/orgs/%d", org.ID))
		require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode, method)
		require.Equal(t, "GET, HEAD", resp.Header.Get("Allow"))
		requireSecurityHeaders(t, resp)
	}
	resp, body := f.do(http.MethodHead, "/")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Empty(t, body)
}

func requireSecurityHeaders(t *testing.T, resp *http.Response) {
	t.Helper()
	require.True(t, strings.HasPrefix(resp.Header.Get("Content-Security-Policy"),
		"default-src 'self'"), resp.Header.Get("Content-Security-Policy"))
	require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	require.Equal(t, "no-referrer", resp.Header.Get("Referrer-Policy"))
}

func TestNoSecretOnAnyPage(t *testing.T) {
	f := newFixture(t)
	run := f.sync(sample())
	for _, path := range []string{"/", fmt.Sprintf("/orgs/%d", f.org.ID),
		fmt.Sprintf("/orgs/%d?format=csv", f.org.ID), fmt.Sprintf("/runs/%d", run.ID),
		fmt.Sprintf("/orgs/%d/images/%s?repo=api", f.org.ID, dg('2')), "/nowhere"} {
		_, body := f.get(path)
		require.NotContains(t, body, storedToken, path)
	}
}

func TestRunPageShowsWhatChanged(t *testing.T) {
	f := newFixture(t)
	first := f.sync(sample())
	body := f.page(fmt.Sprintf("/runs/%d", first.ID))
	require.Contains(t, body, "first completed run")
	require.Contains(t, body, `href="http://127.0.0.1:8233/namespaces/default/workflows/`+
		`quay-sync%2Fquay.test%2Facme/wf-run-b/history"`)
	require.Contains(t, body, `<td class="num">10</td>`)

	// The regex now selects v1.9.0, team/legacy gets a push (so its old tags are pruned) and
	// a repository appears.
	_, err := f.store.UpdateSettings(f.ctx, f.org.ID, store.OrgSettings{
		Retention: policy.Settings{TagRegex: `v1\.9\.0`, AgeThresholdMonths: 6, KeepLatest: 1},
		Schedule:  schedule.Default()}, "test", "change-1")
	require.NoError(t, err)
	next := sample()
	next["team/legacy"] = append(next["team/legacy"], tag("v2", dg('9'), 1))
	next["web"] = []store.TagRecord{tag("main", dg('w'), 1)}
	second := f.sync(next)

	body = f.page(fmt.Sprintf("/runs/%d", second.ID))
	require.Contains(t, body, fmt.Sprintf(`Against <a href="/runs/%d">run %d</a>`, first.ID,
		first.ID))
	require.Contains(t, body, "<strong>all changes (5)</strong>")
	require.Contains(t, body, ">new (2)</a>")
	require.Contains(t, body, ">newly pruned (2)</a>")
	require.Contains(t, body, ">decision changed (1)</a>")
	require.Contains(t, body, "scanned: pushed within 6 months and the tag matches the tag regex")
	require.Contains(t, body, "tag regex <code>v1\\.9\\.0</code>")

	body = f.page(fmt.Sprintf("/runs/%d?change=pruned", second.ID))
	require.Contains(t, body, "<strong>newly pruned (2)</strong>")
	require.Contains(t, body, "rows 1–2 of 2")
	require.Contains(t, body, ">v0</td>")
	require.NotContains(t, body, ">v1.9.0</td>")
}

func TestImagePageShowsTagsRulesAndHistory(t *testing.T) {
	f := newFixture(t)
	f.sync(sample())
	f.sync(sample())
	body := f.page(fmt.Sprintf("/orgs/%d/images/%s?repo=api", f.org.ID, dg('2')))
	for _, want := range []string{
		"<dd class=\"digest\">" + dg('2') + "</dd>",
		">latest</td>", ">v2.0.0</td>", ">" + sig(dg('2')) + "</td>",
		"<h2>Signatures and attestations</h2>",
		"scanned: the newest image of the repository, pushed within 6 months",
		"kept: signature/attestation of a kept image",
		`<a href="/runs/1">run 1</a>`, `<a href="/runs/2">run 2</a>`,
		`<section class="vulnerabilities" id="vulnerabilities">`, notScanned,
		"The policy scans this image: the next sync reads its",
	} {
		require.Contains(t, body, want)
	}
	require.Equal(t, 6, strings.Count(body, "<td>2026-12-04 13:00 UTC</td>"),
		"three tags decided by each of two runs")
}

func TestReevaluationShowsItsCrawlAndItsSettings(t *testing.T) {
	f := newFixture(t)
	first := f.sync(sample())
	_, err := f.store.UpdateSettings(f.ctx, f.org.ID, store.OrgSettings{
		Retention: policy.Settings{AgeThresholdMonths: 12, KeepLatest: 1},
		Schedule:  schedule.Default()}, "test", "change-1")
	require.NoError(t, err)
	again := f.reevaluate()

	body := f.page(fmt.Sprintf("/runs/%d", again.ID))
	require.Contains(t, body, fmt.Sprintf(`re-evaluation of the crawl of <a href="/runs/%d">`+
		`run %d</a>`, first.ID, first.ID))
	require.Contains(t, body, "age threshold 12 months")
	require.Contains(t, body, ">newly pruned (2)</a>")
	require.Contains(t, body, ">decision changed (2)</a>")
	require.Contains(t, body, ">new (0)</a>")
	body = f.page(fmt.Sprintf("/orgs/%d", f.org.ID))
	require.Contains(t, body, "pruned: older than 12 months and not the newest image")
	body = f.page(fmt.Sprintf("/orgs/%d?run=%d", f.org.ID, first.ID))
	require.Contains(t, body, "pruned: older than 6 months and not the newest image",
		"an earlier run keeps the words of its own settings")
	require.NotContains(t, f.page(fmt.Sprintf("/runs/%d", first.ID)), "re-evaluation")
}
