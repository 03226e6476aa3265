package e2e

import (
	"context"
	"encoding/csv"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"quaykeeper/internal/vuln"
	"quaykeeper/internal/web"
	"quaykeeper/workflows"
)

// chromiumPath is where Debian's chromium package puts the browser.
const chromiumPath = "/usr/bin/chromium"

// plainWords is what a person reads for each of the sample's not-scanned decisions.
var plainWords = map[string]string{
	"retain not_selected": "kept: pushed within 6 months but not the newest image and not " +
		"matched by the tag regex",
	"retain accessory":          "kept: signature/attestation of a kept image",
	"retain dormant_repository": "kept: the repository had no push in 6 months",
	"retain dormant_repository,latest_image": "kept: the newest image of a dormant " +
		"repository (no push in 6 months)",
	"prune older_than_threshold": "pruned: older than 6 months and not the newest image",
	"prune accessory":            "pruned: signature/attestation of a pruned image",
	"prune orphan_accessory":     "pruned: signature/attestation of an image that has no tag",
}

// TestWebScreenInABrowser syncs the sample organization, then reads the screen in headless
// Chromium the way a person would: the organization list, the retention rows and their
// reasons, a filter, the CSV download and an image's page. It saves a screenshot.
func TestWebScreenInABrowser(t *testing.T) {
	browserPath := ensureChromium(t)
	e := newEnv(t, sampleDataset(time.Now()))
	e.connect()
	e.mustStarter("sync", "--org", "acme", "--wait")
	srv := httptest.NewServer(web.New(e.store, web.Options{
		TemporalUIURL: "http://127.0.0.1:8233", Namespace: "default",
		Logger: slog.New(slog.DiscardHandler)}))
	t.Cleanup(srv.Close)
	ctx := newBrowser(t, browserPath)

	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")))
	orgs := tableRows(t, ctx, "table.orgs")
	require.Len(t, orgs, 1)
	require.Equal(t, "acme", orgs[0][0])
	background, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`getComputedStyle(document.querySelector("header.top")).backgroundColor`))
	require.NoError(t, err)
	require.Equal(t, "rgb(29, 39, 51)", background, "the style sheet loads under the CSP")

	_, err = chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`table.orgs a[href^="/orgs/"]`)))
	require.NoError(t, err)
	want := map[string]string{}
	for key, decision := range sampleDecisions {
		kind, _, _ := strings.Cut(decision, " ")
		if kind == "scan" {
			continue
		}
		require.Contains(t, plainWords, decision, "the test knows the words for %s", key)
		want[key] = kind + " | " + plainWords[decision]
	}
	all := tableRows(t, ctx, "#retention")
	require.Equal(t, want, byTag(all), "every retained and pruned tag, with its reasons")
	count, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("row-count")))
	require.NoError(t, err)
	require.Equal(t, "rows 1–8 of 8, page 1 of 1", count)
	saveScreenshot(t, ctx)

	require.NoError(t, chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`select[name="decision"]`), "prune")))
	_, err = chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`form.filters button`)))
	require.NoError(t, err)
	location, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	require.Contains(t, location, "decision=prune")
	prunes := tableRows(t, ctx, "#retention")
	require.Len(t, prunes, 4)
	for _, row := range prunes {
		require.Equal(t, "prune", row[3], "the filter shows prunes only: %v", row)
		require.Equal(t, want[row[0]+":"+row[1]], "prune | "+row[5])
	}

	href, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.ID("csv"), "href"))
	require.NoError(t, err)
	require.True(t, href.Exists)
	records := download(t, srv.URL+href.Value)
	require.Equal(t, "repository", records[0][0])
	require.Len(t, records, len(prunes)+1, "the CSV holds the rows the filter shows")
	for i, row := range prunes {
		rec := records[i+1]
		require.Equal(t, []string{row[0], row[1], row[3], row[5]},
			[]string{rec[0], rec[1], rec[4], rec[6]}, "CSV row %d is the screen's row", i+1)
		require.True(t, strings.HasPrefix(rec[2], row[4]), "the full digest of %s", row[4])
	}

	_, err = chromedp.RunResponse(ctx,
		chromedp.Click(chromedp.CSS(`#retention tbody tr:first-child a.digest`)))
	require.NoError(t, err)
	vulns, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("vulnerabilities")))
	require.NoError(t, err)
	require.Contains(t, vulns, "not scanned by quaykeeper", "a pruned image has no scan")
	history := tableRows(t, ctx, "table.history")
	require.NotEmpty(t, history)
	require.Equal(t, prunes[0][1], history[0][2], "the image's history names its tag")

	_, err = chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`.history a[href^="/runs/"]`)))
	require.NoError(t, err)
	temporal, err := chromedp.Run(ctx,
		chromedp.AttributeValue(chromedp.CSS(`a[href*="/namespaces/default/"]`), "href"))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(temporal.Value,
		"http://127.0.0.1:8233/namespaces/default/workflows/"+
			url.PathEscape(workflows.WorkflowID(e.simURL, "acme"))+"/"), temporal.Value)

	// api's latest image is scanned: the sync ingested its report from the simulator, and
	// its page counts the findings `starter vulns` lists for it.
	org, err := e.store.FindOrganization(e.ctx, "acme", "")
	require.NoError(t, err)
	_, err = chromedp.RunResponse(ctx, chromedp.Navigate(fmt.Sprintf(
		"%s/orgs/%d/images/%s?repo=api", srv.URL, org.ID, url.PathEscape(digest("api-2")))))
	require.NoError(t, err)
	scans := tableRows(t, ctx, "#vulnerabilities table.scans")
	require.Len(t, scans, 1, "a single image has one scan")
	require.Equal(t, "scanned", scans[0][2], "its status: %v", scans[0])
	require.Len(t, tableRows(t, ctx, "#vulnerabilities table.severity-counts"),
		len(vuln.Severities), "a count for every severity")
	carried := 0
	for _, r := range e.vulns("--repo", "api").Findings {
		for _, img := range r.Images {
			if img.Digest == digest("api-2") {
				carried++
			}
		}
	}
	require.Positive(t, carried, "the simulator's report of the image has findings")
	total, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("vuln-total")))
	require.NoError(t, err)
	require.Equal(t, strconv.Itoa(carried), total, "the page counts the image's findings")
	require.Len(t, tableRows(t, ctx, "#vulnerabilities table.findings"), min(carried, 20))
}

// ensureChromium returns the browser's path, installing Debian's chromium package when it is
// missing. The test never skips: without a browser it fails and says why.
func ensureChromium(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err == nil {
		return chromiumPath
	}
	t.Logf("%s is missing: installing Debian's chromium package", chromiumPath)
	apt := func(args ...string) ([]byte, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		return cmd.CombinedOutput()
	}
	out, err := apt("install", "-y", "chromium")
	if err != nil {
		if out, err = apt("update"); err == nil {
			out, err = apt("install", "-y", "chromium")
		}
	}
	if _, statErr := os.Stat(chromiumPath); statErr != nil {
		t.Fatalf("the browser test needs Chromium at %s and `apt-get install -y chromium` "+
			"did not provide it (%v); install it as root and run the test again. apt-get "+
			"said:\n%s", chromiumPath, err, lastLines(string(out), 20))
	}
	return chromiumPath
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// newBrowser starts headless Chromium with a fresh profile, kept to loopback, and returns a
// tab's context; the browser ends with the test.
func newBrowser(t *testing.T, path string) context.Context {
	t.Helper()
	profile := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("no-proxy-server", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1400, 1000),
	)
	t.Cleanup(cancelAlloc)
	tab, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(cancelTab)
	return tab
}

// tableRows reads the text of every body cell of a table, row by row.
func tableRows(t *testing.T, ctx context.Context, table string) [][]string {
	t.Helper()
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[][]string](`[...document.querySelectorAll(`+
		`"`+table+` tbody tr")].map(tr => [...tr.cells].map(td => td.innerText.trim()))`))
	require.NoError(t, err)
	return rows
}

// byTag indexes retention rows (repository, tag, created, decision, digest, why) as
// "repository:tag" → "decision | why".
func byTag(rows [][]string) map[string]string {
	m := make(map[string]string, len(rows))
	for _, r := range rows {
		m[r[0]+":"+r[1]] = r[3] + " | " + r[5]
	}
	return m
}

func download(t *testing.T, u string) [][]string {
	t.Helper()
	resp, err := http.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Content-Disposition"), "attachment")
	records, err := csv.NewReader(resp.Body).ReadAll()
	require.NoError(t, err)
	return records
}

// saveScreenshot saves the whole page as a PNG in a directory that outlives the test, and
// copies it to the repository's .run/screen.png when .run exists, for a person to look at.
func saveScreenshot(t *testing.T, ctx context.Context) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	dir, err := os.MkdirTemp("", "quaykeeper-screen-")
	require.NoError(t, err)
	path := filepath.Join(dir, "screen.png")
	require.NoError(t, os.WriteFile(path, png, 0o644))
	t.Logf("screenshot of the retention screen: %s", path)
	run, err := filepath.Abs(filepath.Join("..", "..", ".run"))
	require.NoError(t, err)
	if info, err := os.Stat(run); err == nil && info.IsDir() {
		require.NoError(t, os.WriteFile(filepath.Join(run, "screen.png"), png, 0o644))
		t.Logf("copied to %s", filepath.Join(run, "screen.png"))
	}
}
