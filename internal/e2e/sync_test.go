package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"quaykeeper/internal/quaysim"
	"quaykeeper/internal/store"
	"quaykeeper/workflows"
)

const token = "e2eToken0123456789abcdefghijklmnopqrstu"

func digest(seed string) string {
	sum := sha256.Sum256([]byte(seed))
	return "sha256:" + hex.EncodeToString(sum[:])
}

func sigOf(d string) string { return "sha256-" + strings.TrimPrefix(d, "sha256:") + ".sig" }

// sampleDataset is a small organization whose every decision the spec fixes.
func sampleDataset(now time.Time) *quaysim.Dataset {
	ago := func(d time.Duration) int64 { return now.Add(-d).Unix() }
	day := 24 * time.Hour
	expired := ago(day)
	tag := func(name, dg string, start int64) quaysim.Tag {
		return quaysim.Tag{Name: name, ManifestDigest: dg, StartTS: start, Size: 1 << 20}
	}
	d0, d1, d2 := digest("api-0"), digest("api-1"), digest("api-2")
	return &quaysim.Dataset{
		Organizations: []quaysim.Organization{{Name: "acme", Repositories: []quaysim.Repository{
			{Name: "api", Tags: []quaysim.Tag{
				tag("v2.0.0", d2, ago(day)),
				tag("latest", d2, ago(day)),
				tag("v1.9.0", d1, ago(30*day)),
				tag("v1.0.0", d0, ago(400*day)),
				tag(sigOf(d2), digest("sig-2"), ago(day)),
				tag(sigOf(d0), digest("sig-0"), ago(400*day)),
				tag(sigOf(digest("gone")), digest("sig-x"), ago(2*day)),
				{Name: "expired", ManifestDigest: d1, StartTS: ago(40 * day), EndTS: &expired},
			}},
			{Name: "team/legacy", Tags: []quaysim.Tag{
				tag("v1", digest("legacy-1"), ago(300*day)),
				tag("v0", digest("legacy-0"), ago(400*day)),
			}},
			{Name: "web", Tags: []quaysim.Tag{
				tag("main", digest("web-main"), ago(2*time.Hour)),
				tag("old", digest("web-old"), ago(200*day)),
			}},
		}}},
		Tokens: []quaysim.Token{{Token: token, Scopes: []string{"repo:read", "user:read"},
			User: "alice", Organizations: []string{"acme"}}},
	}
}

var sampleDecisions = map[string]string{
	"api:v2.0.0":                    "scan latest_image",
	"api:latest":                    "scan latest_image",
	"api:v1.9.0":                    "retain not_selected",
	"api:v1.0.0":                    "prune older_than_threshold",
	"api:" + sigOf(digest("api-2")): "retain accessory",
	"api:" + sigOf(digest("api-0")): "prune accessory",
	"api:" + sigOf(digest("gone")):  "prune orphan_accessory",
	"team/legacy:v1":                "retain dormant_repository,latest_image",
	"team/legacy:v0":                "retain dormant_repository",
	"web:main":                      "scan latest_image",
	"web:old":                       "prune older_than_threshold",
}

func TestSyncEndToEnd(t *testing.T) {
	e := newEnv(t, sampleDataset(time.Now()))
	out := e.mustStarter("connect", "--host", e.simURL, "--allow-http")
	require.Contains(t, out, "as alice")
	require.Contains(t, out, "quaykeeper-alice-")
	require.Contains(t, out, "acme")
	require.NotContains(t, out, token)

	out = e.mustStarter("sync", "--org", "acme", "--wait")
	require.Contains(t, out, "Done:")
	r := e.report("acme")
	require.Equal(t, sampleDecisions, decisionsByTag(r))
	require.Equal(t, store.Summary{Scan: 3, Retain: 4, Prune: 4}, r.Summary)
	require.Equal(t, "acme", r.Organization)
	require.Equal(t, 6, r.Settings.AgeThresholdMonths)

	id := workflows.WorkflowID(e.simURL, "acme")
	first := e.historyLength(id)
	require.Less(t, first, 200, "a small sync keeps a short history")

	// A preview sees the stored crawl with other settings and saves nothing.
	out = e.mustStarter("preview", "--org", "acme", "--tag-regex", `v1\.9\.0|v0`,
		"--format", "json")
	require.Contains(t, out, `"tag_regex": "v1\\.9\\.0|v0"`)
	require.Contains(t, out, `"tag": "v1.9.0",`)
	require.Equal(t, sampleDecisions, decisionsByTag(e.report("acme")), "preview saved nothing")

	// Quay deletes a tag and pushes another; the next sync reports the removal.
	e.sim.DeleteTag("acme", "api", "v1.9.0")
	e.sim.PushTag("acme", "web", quaysim.Tag{Name: "feature", ManifestDigest: digest("web-f"),
		StartTS: time.Now().Unix(), Size: 1})
	e.mustStarter("sync", "--org", "acme", "--wait")
	second := decisionsByTag(e.report("acme"))
	require.Equal(t, "prune tag_removed", second["api:v1.9.0"])
	require.Equal(t, "scan latest_image", second["web:feature"])
	require.Equal(t, "retain not_selected", second["web:main"])

	// The removed tag left the inventory: a third sync does not report it again.
	e.mustStarter("sync", "--org", "acme", "--wait")
	_, ok := decisionsByTag(e.report("acme"))["api:v1.9.0"]
	require.False(t, ok)
}

func TestSyncSurvivesRateLimitsAndServerErrors(t *testing.T) {
	e := newEnv(t, sampleDataset(time.Now()))
	e.connect()
	e.sim.SetFaults(quaysim.Faults{RateLimitRate: 0.3, ServerErrorRate: 0.2, Seed: 42})
	e.mustStarter("sync", "--org", "acme", "--wait")
	require.Equal(t, sampleDecisions, decisionsByTag(e.report("acme")))
	stats := e.sim.Stats()
	require.Positive(t, stats.ByStatus[http.StatusTooManyRequests], "faults were injected")
}

func TestRevokedTokenFailsTheRunAndPrunesNothing(t *testing.T) {
	e := newEnv(t, sampleDataset(time.Now()))
	e.connect()
	e.mustStarter("sync", "--org", "acme", "--wait")
	before := e.report("acme")

	e.sim.DeleteTag("acme", "api", "v1.9.0")
	e.sim.RevokeToken(token)
	out, errOut, code := e.starter("", "sync", "--org", "acme", "--wait")
	require.Equal(t, 1, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	require.Contains(t, errOut, "token")
	require.NotContains(t, errOut+out, token)
	require.Equal(t, before, e.report("acme"), "a failed run changes nothing")
	org, err := e.store.FindOrganization(e.ctx, "acme", "")
	require.NoError(t, err)
	failed, err := e.store.LatestRun(e.ctx, org.ID, store.RunFailed)
	require.NoError(t, err)
	require.NotEmpty(t, failed.Error)
	require.False(t, failed.CrawlComplete)
}

func TestHTMLAnswerFailsTheRunWithTheURL(t *testing.T) {
	e := newEnv(t, sampleDataset(time.Now()))
	e.connect()
	e.mustStarter("sync", "--org", "acme", "--wait")
	before := e.report("acme")

	e.wrap = func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.Contains(r.URL.Path, "/repository/acme/web/tag/") {
			return false
		}
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html><body>Please log in</body></html>"))
		return true
	}
	e.sim.DeleteTag("acme", "api", "v1.9.0")
	out, errOut, code := e.starter("", "sync", "--org", "acme", "--wait")
	require.Equal(t, 1, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	require.Contains(t, errOut, "/api/v1/repository/acme/web/tag/")
	require.NotContains(t, errOut+out, token)
	require.Equal(t, before, e.report("acme"), "a failed run changes nothing")
}

func TestEmptiedNamespaceIsAnError(t *testing.T) {
	e := newEnv(t, sampleDataset(time.Now()))
	e.connect()
	e.mustStarter("sync", "--org", "acme", "--wait")

	// The user leaves the organization: Quay now lists no repositories, with a 200.
	e.sim.RevokeToken(token)
	e.sim.AddToken(quaysim.Token{Token: token, Scopes: []string{"repo:read", "user:read"},
		User: "alice"})
	out, errOut, code := e.starter("", "sync", "--org", "acme", "--wait")
	require.Equal(t, 1, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	require.Contains(t, errOut, "listed no repositories")
	require.Len(t, e.report("acme").Decisions, len(sampleDecisions))
}
