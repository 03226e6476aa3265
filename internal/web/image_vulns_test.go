package web_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"quaykeeper/internal/store"
	"quaykeeper/internal/vuln"
)

// notScanned is what an image page says of an image without any stored scan.
const notScanned = "not scanned by quaykeeper: only images the policy scans are read from " +
	"Quay's security scanner"

const evilFinding = `<script>x</script>`

func finding(name string, sev vuln.Severity, cvss float64, fixedBy, link string) vuln.Finding {
	return vuln.Finding{Vulnerability: name, Severity: sev, Package: "openssl-libs",
		Version: "1.1.1k", AddedBy: "sha256:layer", FixedBy: fixedBy, Link: link, CVSS: &cvss,
		CVSSVector: "CVSS:3.1/AV:N", Updater: "rhel", Description: "d"}
}

// saveScans stores what an ingestion of the run would have learnt of a repository's image.
func (f *fixture) saveScans(run store.Run, repo, digest string,
	manifests ...store.ManifestResult) {
	f.t.Helper()
	targets, err := f.store.ScanTargets(f.ctx, run.ID)
	require.NoError(f.t, err)
	var repoID int64
	for _, tg := range targets {
		if tg.Repository == repo {
			repoID = tg.RepositoryID
		}
	}
	require.NotZero(f.t, repoID, "the run scans an image of %s", repo)
	require.NoError(f.t, f.store.SaveImageScan(f.ctx, store.ImageScan{RepositoryID: repoID,
		Digest: digest, RunID: run.ID, At: now, Manifests: manifests}))
}

func TestImagePageShowsVulnerabilities(t *testing.T) {
	f := newFixture(t)
	run := f.sync(sample())
	// api's latest image is a manifest list of two platforms, one scanned and one queued.
	findings := []vuln.Finding{
		finding("CVE-2026-0001", vuln.Critical, 9.8, "1.1.1w",
			"https://access.redhat.com/security/cve/CVE-2026-0001 javascript:alert(1)"),
		finding(evilFinding, vuln.High, 7.5, "", "javascript:alert(2)"),
		finding("CVE-2026-0003", vuln.Low, 3.1, "1.1.1w", "ftp://127.0.0.1/x"),
	}
	for i := range 22 {
		findings = append(findings, finding(fmt.Sprintf("CVE-2026-1%03d", i), vuln.Negligible,
			1, "", ""))
	}
	f.saveScans(run, "api", dg('2'),
		store.ManifestResult{Manifest: dg('3'), Platform: "linux/amd64",
			Scan: vuln.Scan{Status: vuln.StatusScanned, Findings: findings}},
		store.ManifestResult{Manifest: dg('4'), Platform: "linux/arm64",
			Scan: vuln.Scan{Status: vuln.StatusQueued, Reason: "Quay has not scanned it yet"}})
	// Another image of the repository carries a finding the page must not count.
	f.saveScans(run, "api", dg('1'), store.ManifestResult{Manifest: dg('1'),
		Scan: vuln.Scan{Status: vuln.StatusScanned, Findings: []vuln.Finding{
			finding("CVE-2026-9999", vuln.Critical, 10, "2", "")}}})

	body := f.page(fmt.Sprintf("/orgs/%d/images/%s?repo=api", f.org.ID, dg('2')))
	_, section, ok := strings.Cut(body, `<section class="vulnerabilities" id="vulnerabilities">`)
	require.True(t, ok, body)
	for _, want := range []string{
		"<td>linux/amd64</td>", `<td class="scan-status scanned">scanned</td>`,
		"<td>linux/arm64</td>", `<td class="scan-status queued">queued</td>`,
		"Quay has not scanned it yet",
		`<td class="severity Critical">Critical</td><td class="num">1</td>` + "\n" +
			`<td class="num">1</td>`,
		`<td class="severity High">High</td><td class="num">1</td>` + "\n" +
			`<td class="num">0</td>`,
		`<td class="severity Low">Low</td><td class="num">1</td>` + "\n" +
			`<td class="num">1</td>`,
		`<td class="severity Negligible">Negligible</td><td class="num">22</td>` + "\n" +
			`<td class="num">0</td>`,
		`<th class="num" id="vuln-total">25</th>`, `<th class="num" id="vuln-fixable">2</th>`,
		`<a href="https://access.redhat.com/security/cve/CVE-2026-0001" rel="noreferrer">`,
		`<td class="num" title="CVSS:3.1/AV:N">9.8</td>`, "1.1.1w",
		`&lt;script&gt;x&lt;/script&gt;`,
		"Showing the 20 most urgent of 25 findings",
		"<code>starter vulns --org acme --repo api</code>",
	} {
		require.Contains(t, section, want)
	}
	require.NotContains(t, body, evilFinding, "a scanner-supplied name is escaped")
	require.NotContains(t, body, "javascript:alert(1)</a>", "only http(s) URLs are links")
	require.NotContains(t, body, `href="javascript:`)
	require.NotContains(t, body, `href="ftp:`)
	require.Contains(t, section, "javascript:alert(2)", "a link that is no URL is plain text")
	require.NotContains(t, section, "CVE-2026-9999", "findings of another image stay out")
	require.NotContains(t, section, notScanned)
	require.Equal(t, 20, strings.Count(section, `<td class="name">openssl-libs</td>`),
		"the page lists the 20 most urgent findings")
	critical := strings.Index(section, "CVE-2026-0001")
	high := strings.Index(section, `&lt;script&gt;`)
	low := strings.Index(section, "CVE-2026-0003")
	require.True(t, critical < high && high < low, "ranked most urgent first")

	body = f.page(fmt.Sprintf("/orgs/%d/images/%s?repo=team%%2Flegacy", f.org.ID, dg('a')))
	require.Contains(t, body, notScanned, "an image the policy keeps unscanned")
	require.NotContains(t, body, "the next sync reads its")
	require.NotContains(t, body, "Most urgent findings")
}
