package store_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"quaykeeper/internal/policy"
	"quaykeeper/internal/store"
	"quaykeeper/internal/vuln"
)

// vulnFixture is a completed run over one repository "api": latest and v2 on digest A
// (scan, latest), v1 on B (scan), old on C (prune), and the manifest list L (scan).
type vulnFixture struct {
	*fixture
	run    store.Run
	repoID int64
}

func setupVulns(t *testing.T) *vulnFixture {
	t.Helper()
	f := setup(t)
	run := f.startRun(t, "r1")
	require.NoError(t, f.store.SaveRepositories(f.ctx, f.org.ID, run.ID,
		[]store.RepositoryRecord{{Name: "api"}}))
	repos, err := f.store.RunRepositories(f.ctx, run.ID, 0, 10)
	require.NoError(t, err)
	list := tagAt("multi", "sha256:l", 400)
	list.IsManifestList = true
	require.NoError(t, f.store.SaveTags(f.ctx, repos[0].ID, run.ID, []store.TagRecord{
		tagAt("latest", "sha256:a", 300), tagAt("v2", "sha256:a", 200),
		tagAt("v1", "sha256:b", 100), tagAt("old", "sha256:c", 10), list}))
	_, err = f.store.CompleteCrawl(f.ctx, run.ID)
	require.NoError(t, err)
	decide := map[string]store.Decision{
		"latest": {Kind: policy.KindScan, Reasons: []policy.Reason{policy.ReasonLatestImage}},
		"v2":     {Kind: policy.KindScan, Reasons: []policy.Reason{policy.ReasonLatestImage}},
		"v1":     {Kind: policy.KindScan, Reasons: []policy.Reason{policy.ReasonTagMatchesRegex}},
		"old": {Kind: policy.KindPrune,
			Reasons: []policy.Reason{policy.ReasonOlderThanThreshold}},
		"multi": {Kind: policy.KindScan, Reasons: []policy.Reason{policy.ReasonLatestImage}},
	}
	tags := collect(t, f.store.RunTags(f.ctx, run.ID))
	_, err = f.store.ReplaceDecisions(f.ctx, run.ID, func(yield func(store.Decision,
		error) bool) {
		for _, tag := range tags {
			d := decide[tag.Name]
			d.TagID, d.Repository, d.Tag, d.Digest, d.Created = tag.ID, tag.Repository,
				tag.Name, tag.Digest, tag.Created
			if !yield(d, nil) {
				return
			}
		}
	})
	require.NoError(t, err)
	_, err = f.store.ApplyDecisions(f.ctx, run.ID)
	require.NoError(t, err)
	_, err = f.store.Prune(f.ctx, run.ID)
	require.NoError(t, err)
	return &vulnFixture{fixture: f, run: run, repoID: repos[0].ID}
}

func finding(name string, sev vuln.Severity, fixedBy string) vuln.Finding {
	score := 7.5
	return vuln.Finding{Vulnerability: name, Severity: sev, Package: "openssl-libs",
		Version: "1.1.1k", AddedBy: "sha256:layer", FixedBy: fixedBy, Link: "https://x/" + name,
		CVSS: &score, CVSSVector: "CVSS:3.1/AV:N", Updater: "rhel", Description: "d"}
}

func scanned(findings ...vuln.Finding) vuln.Scan {
	return vuln.Scan{Status: vuln.StatusScanned, Findings: findings, Packages: []vuln.Package{
		{Name: "openssl-libs", Version: "1.1.1k", AddedBy: "sha256:layer"},
		{Name: "bash", Version: "4.4", AddedBy: "sha256:layer"}}}
}

func (v *vulnFixture) save(t *testing.T, digest string, results ...store.ManifestResult) {
	t.Helper()
	require.NoError(t, v.store.SaveImageScan(v.ctx, store.ImageScan{RepositoryID: v.repoID,
		Digest: digest, RunID: v.run.ID, At: v.run.EvaluatedAt, Manifests: results}))
}

func (v *vulnFixture) occurrences(t *testing.T, f vuln.Filter) []string {
	t.Helper()
	occ, err := v.store.Occurrences(v.ctx, v.org.ID, f)
	require.NoError(t, err)
	var out []string
	for _, o := range occ {
		out = append(out, o.Image.Digest+"/"+o.Image.Platform+" "+o.Finding.Vulnerability)
	}
	slices.Sort(out)
	return out
}

func TestScanTargetsAreDistinctImages(t *testing.T) {
	v := setupVulns(t)
	targets, err := v.store.ScanTargets(v.ctx, v.run.ID)
	require.NoError(t, err)
	require.Equal(t, []store.ScanTarget{
		{RepositoryID: v.repoID, Repository: "api", Digest: "sha256:a"},
		{RepositoryID: v.repoID, Repository: "api", Digest: "sha256:b"},
		{RepositoryID: v.repoID, Repository: "api", Digest: "sha256:l", IsManifestList: true},
	}, targets)
}

func TestSaveImageScanReplacesAndFilters(t *testing.T) {
	v := setupVulns(t)
	high := finding("CVE-1", vuln.High, "1.1.1m")
	low := finding("CVE-2", vuln.Low, "")
	for range 2 { // saving again replaces, never duplicates
		v.save(t, "sha256:a", store.ManifestResult{Manifest: "sha256:a",
			Scan: scanned(high, low)})
	}
	v.save(t, "sha256:b", store.ManifestResult{Manifest: "sha256:b",
		Scan: vuln.Scan{Status: vuln.StatusFailed, Reason: "scanner failed"}})

	occ, err := v.store.Occurrences(v.ctx, v.org.ID, vuln.Filter{})
	require.NoError(t, err)
	require.Len(t, occ, 2)
	got := occ[slices.IndexFunc(occ, func(o vuln.Occurrence) bool {
		return o.Finding.Vulnerability == "CVE-1"
	})]
	require.Equal(t, high, got.Finding)
	require.Equal(t, vuln.Image{Repository: "api", Tags: []string{"latest", "v2"},
		Digest: "sha256:a", Manifest: "sha256:a", Pushed: time.Unix(200, 0).UTC()}, got.Image)

	require.Equal(t, []string{"sha256:a/ CVE-1"},
		v.occurrences(t, vuln.Filter{MinSeverity: vuln.Medium}))
	require.Equal(t, []string{"sha256:a/ CVE-1"}, v.occurrences(t, vuln.Filter{Fixable: true}))
	require.Empty(t, v.occurrences(t, vuln.Filter{Repository: "web"}))
	require.Len(t, v.occurrences(t, vuln.Filter{Repository: "api"}), 2)

	counts, err := v.store.RunIngestCounts(v.ctx, v.run.ID)
	require.NoError(t, err)
	require.Equal(t, store.IngestCounts{Statuses: vuln.StatusCounts{Scanned: 1, Failed: 1},
		Findings: 2}, counts)
}

func TestTransientFailureKeepsTheReport(t *testing.T) {
	v := setupVulns(t)
	v.save(t, "sha256:a", store.ManifestResult{Manifest: "sha256:a",
		Scan: scanned(finding("CVE-1", vuln.High, ""))})
	v.save(t, "sha256:a", store.ManifestResult{Manifest: "sha256:a",
		Scan: vuln.Scan{Status: vuln.StatusUnavailable, Reason: "520: scanner down"}})
	require.Equal(t, []string{"sha256:a/ CVE-1"}, v.occurrences(t, vuln.Filter{}))
	counts, err := v.store.RunIngestCounts(v.ctx, v.run.ID)
	require.NoError(t, err)
	require.Equal(t, store.IngestCounts{Statuses: vuln.StatusCounts{Scanned: 1}, Kept: 1,
		Findings: 1}, counts)

	// A queued manifest with no report yet is recorded as queued.
	v.save(t, "sha256:b", store.ManifestResult{Manifest: "sha256:b",
		Scan: vuln.Scan{Status: vuln.StatusQueued}})
	scans, err := v.store.ScanCounts(v.ctx, v.org.ID)
	require.NoError(t, err)
	require.Equal(t, vuln.StatusCounts{Scanned: 1, Queued: 1}, scans)
}

func TestManifestListScans(t *testing.T) {
	v := setupVulns(t)
	child := func(arch string) store.ManifestResult {
		return store.ManifestResult{Manifest: "sha256:l-" + arch, Platform: "linux/" + arch,
			Scan: scanned(finding("CVE-"+arch, vuln.Medium, ""))}
	}
	v.save(t, "sha256:l", child("amd64"), child("arm64"))
	both := []string{"sha256:l/linux/amd64 CVE-amd64", "sha256:l/linux/arm64 CVE-arm64"}
	require.Equal(t, both, v.occurrences(t, vuln.Filter{}))

	// The list cannot be read for a while: its platform manifests keep their reports.
	v.save(t, "sha256:l", store.ManifestResult{Manifest: "sha256:l",
		Scan: vuln.Scan{Status: vuln.StatusUnavailable, Reason: "503"}})
	require.Equal(t, both, v.occurrences(t, vuln.Filter{}))
	counts, _ := v.store.RunIngestCounts(v.ctx, v.run.ID)
	require.Equal(t, 2, counts.Kept)

	// A platform manifest the list no longer names goes.
	v.save(t, "sha256:l", child("amd64"))
	require.Equal(t, both[:1], v.occurrences(t, vuln.Filter{}))

	// The list is gone from Quay: one not_found row replaces the platform scans.
	v.save(t, "sha256:l", store.ManifestResult{Manifest: "sha256:l",
		Scan: vuln.Scan{Status: vuln.StatusNotFound, Reason: "404"}})
	require.Empty(t, v.occurrences(t, vuln.Filter{}))
	scans, _ := v.store.ScanCounts(v.ctx, v.org.ID)
	require.Equal(t, vuln.StatusCounts{NotFound: 1}, scans)
}

func TestDropUnmanagedFindings(t *testing.T) {
	v := setupVulns(t)
	for _, d := range []string{"sha256:a", "sha256:b", "sha256:c"} {
		v.save(t, d, store.ManifestResult{Manifest: d,
			Scan: scanned(finding("CVE-"+d, vuln.High, ""))})
	}
	dropped, err := v.store.DropUnmanagedFindings(v.ctx, v.org.ID)
	require.NoError(t, err)
	require.Equal(t, 1, dropped, "the pruned digest C leaves with its findings")
	require.Equal(t, []string{"sha256:a/ CVE-sha256:a", "sha256:b/ CVE-sha256:b"},
		v.occurrences(t, vuln.Filter{}))
	dropped, err = v.store.DropUnmanagedFindings(v.ctx, v.org.ID)
	require.NoError(t, err)
	require.Zero(t, dropped)
}

func TestComplianceSettings(t *testing.T) {
	v := setupVulns(t)
	got, err := v.store.ComplianceSettings(v.ctx, v.org.ID)
	require.NoError(t, err)
	require.Equal(t, vuln.DefaultComplianceSettings(), got, "the migration's defaults")

	want := vuln.ComplianceSettings{FixableSeverityThreshold: "Critical", MaxImageAgeDays: 30}
	require.NoError(t, v.store.SetComplianceSettings(v.ctx, v.org.ID, want))
	got, _ = v.store.ComplianceSettings(v.ctx, v.org.ID)
	require.Equal(t, want, got)

	err = v.store.SetComplianceSettings(v.ctx, v.org.ID,
		vuln.ComplianceSettings{MaxImageAgeDays: -3})
	var ve *policy.ValidationError
	require.ErrorAs(t, err, &ve)
	got, _ = v.store.ComplianceSettings(v.ctx, v.org.ID)
	require.Equal(t, want, got, "an invalid setting stores nothing")
	require.ErrorIs(t, v.store.SetComplianceSettings(v.ctx, 9999, want), store.ErrNotFound)
	_, err = v.store.ComplianceSettings(v.ctx, 9999)
	require.ErrorIs(t, err, store.ErrNotFound)
}

func TestComplianceImagesAndStoredVerdicts(t *testing.T) {
	v := setupVulns(t)
	fixed := finding("CVE-1", vuln.High, "1.1.1m")
	v.save(t, "sha256:a", store.ManifestResult{Manifest: "sha256:a",
		Scan: scanned(fixed, finding("CVE-2", vuln.Critical, ""))})
	v.save(t, "sha256:l", store.ManifestResult{Manifest: "sha256:l-arm64",
		Platform: "linux/arm64", Scan: vuln.Scan{Status: vuln.StatusQueued}})

	images, err := v.store.ComplianceImages(v.ctx, v.run.ID)
	require.NoError(t, err)
	require.Len(t, images, 3)
	require.Equal(t, vuln.ComplianceImage{Repository: "api", Digest: "sha256:a",
		Tags: []string{"latest", "v2"}, Latest: true, Pushed: time.Unix(200, 0).UTC(),
		Manifests: []vuln.ManifestScan{{Manifest: "sha256:a", Status: vuln.StatusScanned,
			Fixable: []vuln.Finding{{Vulnerability: "CVE-1", Severity: vuln.High,
				Package: "openssl-libs", Version: "1.1.1k", FixedBy: "1.1.1m"}}}}}, images[0])
	require.Equal(t, "sha256:b", images[1].Digest)
	require.False(t, images[1].Latest)
	require.Empty(t, images[1].Manifests, "nothing recorded for B yet")
	require.Equal(t, []vuln.ManifestScan{{Manifest: "sha256:l-arm64", Platform: "linux/arm64",
		Status: vuln.StatusQueued}}, images[2].Manifests)

	_, err = v.store.LatestComplianceRun(v.ctx, v.org.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
	settings := vuln.DefaultComplianceSettings()
	var verdicts []vuln.Verdict
	for _, img := range images {
		verdicts = append(verdicts, vuln.Evaluate(settings, v.run.EvaluatedAt, img))
	}
	for range 2 { // a retried evaluation replaces the first
		counts, err := v.store.SaveCompliance(v.ctx, v.run.ID, v.run.EvaluatedAt, settings,
			verdicts)
		require.NoError(t, err)
		require.Equal(t, vuln.ComplianceCounts{Images: 3, Passed: 1, Failed: 2,
			ByRule: vuln.RuleCounts{FixableSeverity: 1, LatestScanned: 1}}, counts)
	}
	id, err := v.store.LatestComplianceRun(v.ctx, v.org.ID)
	require.NoError(t, err)
	require.Equal(t, v.run.ID, id)
	report, err := v.store.Compliance(v.ctx, id)
	require.NoError(t, err)
	require.Equal(t, vuln.ComplianceReport{RunID: v.run.ID, EvaluatedAt: "2026-12-04T13:00:00Z",
		Settings: settings, Summary: vuln.Count(verdicts), Images: verdicts}, report)
	_, err = v.store.Compliance(v.ctx, 9999)
	require.True(t, errors.Is(err, store.ErrNotFound))
}
