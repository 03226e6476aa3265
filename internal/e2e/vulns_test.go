package e2e

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"quaykeeper/internal/quaysim"
	"quaykeeper/internal/store"
	"quaykeeper/internal/vuln"
)

// vulnDataset is the sample organization plus a repository whose latest tag is a manifest
// list, so ingestion reads platform manifests too.
func vulnDataset(now time.Time) *quaysim.Dataset {
	ds := sampleDataset(now)
	org := &ds.Organizations[0]
	org.Repositories = append(org.Repositories, quaysim.Repository{Name: "multi",
		Tags: []quaysim.Tag{
			{Name: "v3", ManifestDigest: digest("multi-3"), StartTS: now.Add(-time.Hour).Unix(),
				IsManifestList: true},
			{Name: "v2", ManifestDigest: digest("multi-2"), StartTS: now.AddDate(0, 0, -3).Unix(),
				Size: 1 << 20},
		}})
	return ds
}

// syncAndIngest syncs acme; the sync ingests its vulnerabilities and evaluates its
// compliance after it prunes.
func (e *env) syncAndIngest() store.Run {
	e.t.Helper()
	e.mustStarter("sync", "--org", "acme", "--wait")
	org, err := e.store.FindOrganization(e.ctx, "acme", "")
	require.NoError(e.t, err)
	run, err := e.store.LatestRun(e.ctx, org.ID, store.RunCompleted)
	require.NoError(e.t, err)
	return run
}

// simCounts reads the run's reports straight from the simulator with plain JSON decoding:
// scanned manifests, their packages and vulnerabilities.
func (e *env) simCounts(runID int64, skip func(manifest string) bool) (scanned, packages,
	findings int) {
	e.t.Helper()
	get := func(path string, out any) {
		req, _ := http.NewRequest(http.MethodGet, e.simURL+"/api/v1/repository/acme/"+path, nil)
		req.Header.Set("Authorization", "Bearer "+e.token)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(e.t, err)
		defer resp.Body.Close()
		require.Equal(e.t, http.StatusOK, resp.StatusCode, path)
		require.NoError(e.t, json.NewDecoder(resp.Body).Decode(out))
	}
	targets, err := e.store.ScanTargets(e.ctx, runID)
	require.NoError(e.t, err)
	for _, tg := range targets {
		manifests := []string{tg.Digest}
		if tg.IsManifestList {
			var m struct {
				Data string `json:"manifest_data"`
			}
			get(tg.Repository+"/manifest/"+tg.Digest, &m)
			var index struct{ Manifests []struct{ Digest string } }
			require.NoError(e.t, json.Unmarshal([]byte(m.Data), &index))
			manifests = nil
			for _, c := range index.Manifests {
				manifests = append(manifests, c.Digest)
			}
		}
		for _, d := range manifests {
			if skip(d) {
				continue
			}
			var report struct {
				Status string
				Data   *struct {
					Layer struct {
						Features []struct{ Vulnerabilities []any }
					}
				}
			}
			get(tg.Repository+"/manifest/"+d+"/security", &report)
			if report.Status != vuln.StatusScanned {
				continue
			}
			scanned++
			packages += len(report.Data.Layer.Features)
			for _, f := range report.Data.Layer.Features {
				findings += len(f.Vulnerabilities)
			}
		}
	}
	return scanned, packages, findings
}

func (e *env) vulns(args ...string) vuln.Listing {
	e.t.Helper()
	out := e.mustStarter(append([]string{"vulns", "--org", "acme", "--format", "json"},
		args...)...)
	var l vuln.Listing
	require.NoError(e.t, json.Unmarshal([]byte(out), &l), out)
	return l
}

func TestVulnerabilitiesEndToEnd(t *testing.T) {
	e := newEnv(t, vulnDataset(time.Now()))
	e.connect()
	run := e.syncAndIngest()

	none := func(string) bool { return false }
	scanned, packages, findings := e.simCounts(run.ID, none)
	require.Positive(t, findings, "the sample's images carry vulnerabilities")
	require.Equal(t, scanned, e.sqlCount(`SELECT count(*) FROM vuln_scans
		WHERE status = 'scanned'`))
	require.Equal(t, packages, e.sqlCount(`SELECT count(*) FROM vuln_packages`))
	require.Equal(t, findings, e.sqlCount(`SELECT count(*) FROM vuln_findings`))
	platforms := e.sqlCount(`SELECT count(*) FROM vuln_scans WHERE tag_digest = $1
		AND platform LIKE 'linux/%'`, digest("multi-3"))
	require.GreaterOrEqual(t, platforms, 2, "the list is read through its platform manifests")
	require.Equal(t, platforms, e.sqlCount(`SELECT count(*) FROM vuln_scans
		WHERE tag_digest = $1`, digest("multi-3")))

	// The listing ranks every finding with the images that carry it.
	l := e.vulns()
	occurrences := 0
	for i, r := range l.Findings {
		require.Equal(t, i+1, r.Rank)
		if i > 0 {
			require.LessOrEqual(t, r.Score, l.Findings[i-1].Score, "ranked by score")
		}
		for _, img := range r.Images {
			require.NotEmpty(t, img.Tags, "%s@%s has tags", img.Repository, img.Digest)
		}
		occurrences += len(r.Images)
	}
	require.Equal(t, findings, occurrences)
	require.Equal(t, len(l.Findings), l.Summary.Findings)
	require.Equal(t, scanned, l.Scans.Scanned)
	require.NotEmpty(t, l.Summary.TopPackages)

	out := e.mustStarter("vulns", "--org", "acme", "--min-severity", "high", "--fixable",
		"--repo", "api", "--format", "csv")
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	require.NoError(t, err)
	require.Equal(t, "rank", rows[0][0])
	for _, row := range rows[1:] {
		require.Contains(t, []string{"High", "Critical"}, row[3], row)
		require.NotEmpty(t, row[8], "fixed_by of %v", row)
		require.Equal(t, "api", row[10])
	}
	table := e.mustStarter("vulns", "--org", "acme")
	require.Contains(t, table, "RANK")
	require.Contains(t, table, "Top packages:")
	_, errOut, code := e.starter("", "vulns", "--org", "acme", "--min-severity", "Severe")
	require.Equal(t, 2, code, errOut)
	require.Contains(t, errOut, `--min-severity "Severe" is not a severity`)

	// Compliance with every fixable finding failing: the command gates with exit code 1.
	org, err := e.store.FindOrganization(e.ctx, "acme", "")
	require.NoError(t, err)
	require.NoError(t, e.store.SetComplianceSettings(e.ctx, org.ID, vuln.ComplianceSettings{
		FixableSeverityThreshold: "Unknown"}))
	run = e.syncAndIngest()
	first, errOut, code := e.starter("", "compliance", "--org", "acme", "--format", "json")
	require.Equal(t, 1, code, "stdout:\n%s\nstderr:\n%s", first, errOut)
	require.Contains(t, errOut, "fail compliance (fixable_severity")
	var rep vuln.ComplianceReport
	require.NoError(t, json.Unmarshal([]byte(first), &rep))
	require.Equal(t, run.ID, rep.RunID)
	require.Positive(t, rep.Summary.Failed)

	// Every rule off: every image passes and the command succeeds.
	require.NoError(t, e.store.SetComplianceSettings(e.ctx, org.ID, vuln.ComplianceSettings{}))
	e.syncAndIngest()
	out = e.mustStarter("compliance", "--org", "acme")
	require.Contains(t, out, "pass compliance")

	// The earlier run's evaluation is reproduced as it was stored.
	again, _, code := e.starter("", "compliance", "--org", "acme", "--run",
		strconv.FormatInt(rep.RunID, 10), "--format", "json")
	require.Equal(t, 1, code)
	require.JSONEq(t, first, again)
}

func TestVulnerabilityFaultsAreRecorded(t *testing.T) {
	e := newEnv(t, vulnDataset(time.Now()))
	e.connect()
	e.syncAndIngest()
	require.Positive(t, e.sqlCount(`SELECT count(*) FROM vuln_scans WHERE tag_digest = $1`,
		digest("web-main")))
	before := e.sqlCount(`SELECT count(*) FROM vuln_findings f JOIN vuln_scans s
		ON s.id = f.scan_id WHERE s.tag_digest = $1`, digest("api-2"))

	// web:main is deleted, the scanner is down for api's latest image, and one platform
	// manifest of the list has gone from Quay.
	e.sim.DeleteTag("acme", "web", "main")
	var child string
	e.wrap = func(w http.ResponseWriter, r *http.Request) bool {
		switch {
		case strings.HasSuffix(r.URL.Path, "/manifest/"+digest("api-2")+"/security"):
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(520)
			_, _ = w.Write([]byte(`{"detail": "security scanner misconfigured", ` +
				`"error_type": "downstream_issue", "status": 520}`))
			return true
		case child != "" && strings.HasSuffix(r.URL.Path, "/manifest/"+child+"/security"):
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"detail": "Not Found", "status": 404}`))
			return true
		}
		return false
	}
	require.NoError(t, e.sqlRow(`SELECT manifest_digest FROM vuln_scans WHERE tag_digest = $1
		ORDER BY platform LIMIT 1`, []any{digest("multi-3")}, &child))
	e.syncAndIngest()

	require.Zero(t, e.sqlCount(`SELECT count(*) FROM vuln_scans WHERE tag_digest = $1`,
		digest("web-main")), "the deleted image's findings left with it")
	require.Equal(t, 1, e.sqlCount(`SELECT count(*) FROM vuln_scans WHERE tag_digest = $1
		AND status = 'scanned' AND check_error LIKE '%520%'`, digest("api-2")),
		"the scanner outage is recorded and the earlier report kept")
	require.Equal(t, before, e.sqlCount(`SELECT count(*) FROM vuln_findings f
		JOIN vuln_scans s ON s.id = f.scan_id WHERE s.tag_digest = $1`, digest("api-2")))
	require.Equal(t, 1, e.sqlCount(`SELECT count(*) FROM vuln_scans
		WHERE manifest_digest = $1 AND status = 'not_found'`, child))

	out, errOut, code := e.starter("", "compliance", "--org", "acme")
	require.Equal(t, 1, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	require.Contains(t, out, "latest_scanned")
	require.Contains(t, out, "Quay has no such manifest (not_found)")
	require.NotContains(t, out+errOut, e.token)
}

// sqlRow reads one row of a query against the environment's database.
func (e *env) sqlRow(query string, args []any, dest ...any) error {
	e.t.Helper()
	conn, err := pgx.Connect(e.ctx, e.dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(e.ctx)
	return conn.QueryRow(e.ctx, query, args...).Scan(dest...)
}
