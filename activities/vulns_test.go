package activities_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"quaykeeper/activities"
	"quaykeeper/internal/quaysim"
	"quaykeeper/internal/secret"
	"quaykeeper/internal/store"
	"quaykeeper/internal/testenv"
	"quaykeeper/internal/vuln"
)

const simToken = "actsToken0123456789abcdefghijklmnopqrstu"

// harness is an organization synced from an in-process simulator into a fresh database,
// with the activities run in Temporal's activity test environment.
type harness struct {
	ctx   context.Context
	store *store.Store
	acts  *activities.Activities
	sim   *quaysim.Server
	url   string
	org   store.Organization
	run   store.Run
	// wrap, when set, may answer a request instead of the simulator.
	wrap func(w http.ResponseWriter, r *http.Request) bool
}

func newHarness(tb testing.TB, ds *quaysim.Dataset, rates quaysim.ScanRates) *harness {
	tb.Helper()
	h := &harness{ctx: context.Background()}
	st, err := store.Open(h.ctx, testenv.Database(tb), slog.New(slog.DiscardHandler))
	require.NoError(tb, err)
	tb.Cleanup(st.Close)
	h.store = st
	h.sim = quaysim.New(ds, quaysim.Options{ScanRates: &rates})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.wrap != nil && h.wrap(w, r) {
			return
		}
		h.sim.ServeHTTP(w, r)
	}))
	tb.Cleanup(srv.Close)
	h.url = srv.URL
	box, err := secret.NewBox(bytes.Repeat([]byte{7}, secret.KeySize))
	require.NoError(tb, err)
	h.acts = &activities.Activities{Store: st, Box: box, QuayTimeout: 10 * time.Second,
		QuayAttempts: 2, QuayMinBackoff: time.Millisecond, QuayMaxBackoff: 5 * time.Millisecond}
	conn, err := st.SaveConnection(h.ctx, box, store.NewConnection{Host: srv.URL,
		AllowHTTP: true, Username: "alice", TokenName: "t", Token: simToken})
	require.NoError(tb, err)
	orgs, err := st.AddOrganizations(h.ctx, conn.ID, []string{"acme"})
	require.NoError(tb, err)
	h.org = orgs[0]
	h.sync(tb, "r1")
	return h
}

func (h *harness) env(heartbeat any) *testsuite.TestActivityEnvironment {
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(tlog.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(h.acts)
	if heartbeat != nil {
		env.SetHeartbeatDetails(heartbeat)
	}
	return env
}

// sync runs a whole sync up to Prune through the activities, as the workflow does.
func (h *harness) sync(tb testing.TB, wfRun string) {
	tb.Helper()
	run, err := h.store.StartRun(h.ctx, h.org.ID, "quay-sync/acme", wfRun, time.Now().UTC())
	require.NoError(tb, err)
	in := activities.RunInput{RunID: run.ID}
	env := h.env(nil)
	val, err := env.ExecuteActivity(h.acts.ListRepositories, in)
	require.NoError(tb, err)
	var listed activities.ListRepositoriesResult
	require.NoError(tb, val.Get(&listed))
	_, err = env.ExecuteActivity(h.acts.CrawlTags, activities.CrawlTagsInput{RunID: run.ID,
		Limit: listed.Repositories})
	require.NoError(tb, err)
	for _, step := range []any{h.acts.CompleteCrawl, h.acts.EvaluatePolicy,
		h.acts.PersistDecisions, h.acts.Prune} {
		_, err := env.ExecuteActivity(step, in)
		require.NoError(tb, err)
	}
	h.run = run
}

func (h *harness) ingest(heartbeat any) (activities.IngestResult, error) {
	var res activities.IngestResult
	val, err := h.env(heartbeat).ExecuteActivity(h.acts.IngestVulnerabilities,
		activities.RunInput{RunID: h.run.ID})
	if err != nil {
		return res, err
	}
	return res, val.Get(&res)
}

// expected reads every report of the run's images straight from the simulator with plain
// JSON decoding, independently of the client and the conversion under test.
type expected struct {
	statuses  vuln.StatusCounts
	findings  int
	requests  []int // per target: manifest and security requests it takes
	manifests [][]string
}

func (h *harness) expect(t testing.TB, targets []store.ScanTarget) expected {
	t.Helper()
	get := func(path string, out any) {
		req, _ := http.NewRequest(http.MethodGet, h.url+"/api/v1/repository/acme/"+path, nil)
		req.Header.Set("Authorization", "Bearer "+simToken)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		require.NoError(t, json.NewDecoder(resp.Body).Decode(out))
	}
	var e expected
	for _, tg := range targets {
		manifests, requests := []string{tg.Digest}, 0
		if tg.IsManifestList {
			var m struct {
				Data string `json:"manifest_data"`
			}
			get(tg.Repository+"/manifest/"+tg.Digest, &m)
			var index struct{ Manifests []struct{ Digest string } }
			require.NoError(t, json.Unmarshal([]byte(m.Data), &index))
			manifests, requests = nil, 1
			for _, c := range index.Manifests {
				manifests = append(manifests, c.Digest)
			}
		}
		for _, d := range manifests {
			var report struct {
				Status string
				Data   *struct {
					Layer struct {
						Features []struct{ Vulnerabilities []any }
					}
				}
			}
			get(tg.Repository+"/manifest/"+d+"/security", &report)
			e.statuses.Add(report.Status, 1)
			if report.Data != nil {
				for _, f := range report.Data.Layer.Features {
					e.findings += len(f.Vulnerabilities)
				}
			}
		}
		e.requests = append(e.requests, requests+len(manifests))
		e.manifests = append(e.manifests, manifests)
	}
	return e
}

func (h *harness) targets(t testing.TB) []store.ScanTarget {
	t.Helper()
	targets, err := h.store.ScanTargets(h.ctx, h.run.ID)
	require.NoError(t, err)
	return targets
}

func generated(repos, tags int) *quaysim.Dataset {
	return quaysim.Generate(quaysim.GenerateOptions{Repositories: repos, TagsPerRepo: tags,
		Seed: 11, Now: time.Now(), Token: simToken, DormantFraction: 0.2})
}

// busyRates make every status common in a small organization.
var busyRates = quaysim.ScanRates{Queued: 0.15, Failed: 0.1, LayerTooLarge: 0.1}

func TestIngestVulnerabilities(t *testing.T) {
	h := newHarness(t, generated(20, 30), busyRates)
	targets := h.targets(t)
	want := h.expect(t, targets)
	lists := 0
	for _, tg := range targets {
		if tg.IsManifestList {
			lists++
		}
	}
	require.Positive(t, lists, "the dataset has manifest lists")
	for _, n := range []int{want.statuses.Scanned, want.statuses.Queued, want.statuses.Failed,
		want.statuses.LayerTooLarge} {
		require.Positive(t, n, "every status occurs: %+v", want.statuses)
	}

	h.sim.ResetStats()
	res, err := h.ingest(nil)
	require.NoError(t, err)
	require.Equal(t, activities.IngestResult{Images: len(targets), Statuses: want.statuses,
		Findings: want.findings}, res)
	sum := 0
	for _, n := range want.requests {
		sum += n
	}
	require.Equal(t, sum, h.sim.Stats().Total, "one request per manifest, lists read once")

	again, err := h.ingest(nil)
	require.NoError(t, err)
	require.Equal(t, res, again, "ingesting again stores the same rows")
	occ, err := h.store.Occurrences(h.ctx, h.org.ID, vuln.Filter{})
	require.NoError(t, err)
	require.Len(t, occ, want.findings)
}

func TestIngestRecordsQuayFaults(t *testing.T) {
	h := newHarness(t, generated(8, 30), quaysim.ScanRates{})
	var images, others []store.ScanTarget
	for _, tg := range h.targets(t) {
		if !tg.IsManifestList && len(images) < 4 {
			images = append(images, tg)
		} else {
			others = append(others, tg)
		}
	}
	require.Len(t, images, 4)
	want := h.expect(t, others)
	huge := hugeReport(3000)
	faults := map[string]func(w http.ResponseWriter){
		images[0].Digest: func(w http.ResponseWriter) {
			w.WriteHeader(520)
			_, _ = w.Write([]byte(`{"detail": "security scanner misconfigured", ` +
				`"error_type": "downstream_issue", "status": 520}`))
		},
		images[1].Digest: func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"detail": "Not Found", "status": 404}`))
		},
		images[2].Digest: func(w http.ResponseWriter) {
			_, _ = w.Write([]byte(`{"status": "scanned", "data": {"Layer": {"Features": {}}}}`))
		},
		images[3].Digest: func(w http.ResponseWriter) { _, _ = w.Write(huge) },
	}
	h.wrap = func(w http.ResponseWriter, r *http.Request) bool {
		for digest, answer := range faults {
			if strings.HasSuffix(r.URL.Path, "/manifest/"+digest+"/security") {
				w.Header().Set("Content-Type", "application/json")
				answer(w)
				return true
			}
		}
		return false
	}
	res, err := h.ingest(nil)
	require.NoError(t, err, "faults of single images never fail the activity")
	want.statuses.Scanned++ // the huge report
	want.statuses.Unavailable, want.statuses.NotFound, want.statuses.BadResponse = 1, 1, 1
	require.Equal(t, want.statuses, res.Statuses)
	require.Equal(t, want.findings+6000, res.Findings, "the rest of the findings are kept")

	// Next run Quay answers again: the faulted images are ingested like the others.
	h.wrap = nil
	res, err = h.ingest(nil)
	require.NoError(t, err)
	require.Zero(t, res.Statuses.Unavailable+res.Statuses.NotFound+res.Statuses.BadResponse)
}

// hugeReport is a scanned report of n packages with two vulnerabilities each.
func hugeReport(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"status": "scanned", "data": {"Layer": {"Name": "x", "Features": [`)
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"Name": "pkg-%d", "Version": "1.%d", "AddedBy": "sha256:aa", `+
			`"Vulnerabilities": [{"Name": "CVE-2024-%05d", "Severity": "High", "FixedBy": `+
			`"2.0", "Link": "", "Metadata": {"NVD": {"CVSSv3": {"Score": 7.5, "Vectors": `+
			`"CVSS:3.1/AV:N"}}}}, {"Name": "CVE-2023-%05d", "Severity": "Low", "FixedBy": "", `+
			`"Link": "", "Metadata": {"NVD": {"CVSSv3": {"Score": "", "Vectors": ""}}}}]}`,
			i, i, i, i)
	}
	b.WriteString(`]}}}`)
	return []byte(b.String())
}

func TestIngestFailsOnARejectedToken(t *testing.T) {
	h := newHarness(t, generated(4, 20), quaysim.ScanRates{})
	h.sim.RevokeToken(simToken)
	_, err := h.ingest(nil)
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "error %v", err)
	require.Equal(t, activities.ErrTypeQuayUnauthorized, appErr.Type())
	require.True(t, appErr.NonRetryable())
	require.NotContains(t, err.Error(), simToken)
}

func TestIngestResumesFromItsHeartbeat(t *testing.T) {
	h := newHarness(t, generated(6, 30), quaysim.ScanRates{})
	targets := h.targets(t)
	require.Greater(t, len(targets), 3)
	want := h.expect(t, targets)
	h.sim.ResetStats()
	res, err := h.ingest(3)
	require.NoError(t, err)
	sum := 0
	for _, n := range want.requests[3:] {
		sum += n
	}
	require.Equal(t, sum, h.sim.Stats().Total, "the first three images are not read again")
	require.Less(t, res.Statuses.Total(), want.statuses.Total())
}

func TestEvaluateCompliance(t *testing.T) {
	h := newHarness(t, generated(20, 30), busyRates)
	_, err := h.ingest(nil)
	require.NoError(t, err)
	evaluate := func() activities.ComplianceResult {
		t.Helper()
		val, err := h.env(nil).ExecuteActivity(h.acts.EvaluateCompliance,
			activities.RunInput{RunID: h.run.ID})
		require.NoError(t, err)
		var res activities.ComplianceResult
		require.NoError(t, val.Get(&res))
		return res
	}
	res := evaluate()
	require.Equal(t, len(h.targets(t)), res.Images)
	require.Positive(t, res.ByRule.LatestScanned, "queued and failed latest images fail")
	require.Positive(t, res.ByRule.FixableSeverity, "the catalogue has fixable highs")
	report, err := h.store.Compliance(h.ctx, h.run.ID)
	require.NoError(t, err)
	require.Equal(t, res.ComplianceCounts, report.Summary)
	for _, v := range report.Images {
		if !v.Passed {
			require.NotEmpty(t, v.Failures[0].Message, "a failure says why")
		}
	}

	require.NoError(t, h.store.SetComplianceSettings(h.ctx, h.org.ID, vuln.ComplianceSettings{}))
	res = evaluate()
	require.Zero(t, res.Failed, "with every rule off every image passes")
	report, err = h.store.Compliance(h.ctx, h.run.ID)
	require.NoError(t, err)
	require.Equal(t, vuln.ComplianceSettings{}, report.Settings, "the run's settings are kept")
}

// BenchmarkIngest ingests a generated organization's reports from an in-process simulator
// into PostgreSQL and reports findings and manifests per second.
func BenchmarkIngest(b *testing.B) {
	h := newHarness(b, generated(200, 40), quaysim.DefaultScanRates)
	findings, manifests := 0, 0
	for b.Loop() {
		res, err := h.ingest(nil)
		if err != nil {
			b.Fatal(err)
		}
		findings += res.Findings
		manifests += res.Statuses.Total()
	}
	b.ReportMetric(float64(findings)/b.Elapsed().Seconds(), "findings/s")
	b.ReportMetric(float64(manifests)/b.Elapsed().Seconds(), "manifests/s")
	b.ReportMetric(float64(findings)/float64(b.N), "findings/op")
}
