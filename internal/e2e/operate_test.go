package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"quaykeeper/internal/quaysim"
	"quaykeeper/internal/store"
	"quaykeeper/workflows"
)

// threeOrgs is the sample organization three times over, for one token.
func threeOrgs(now time.Time) *quaysim.Dataset {
	ds := sampleDataset(now)
	base := ds.Organizations[0]
	for _, name := range []string{"beta", "gamma"} {
		org := base
		org.Name = name
		ds.Organizations = append(ds.Organizations, org)
	}
	ds.Tokens[0].Organizations = []string{"acme", "beta", "gamma"}
	return ds
}

func (e *env) status() Status {
	e.t.Helper()
	var s Status
	out := e.mustStarter("status", "--format", "json")
	require.NoError(e.t, json.Unmarshal([]byte(out), &s), out)
	return s
}

// Status mirrors the starter's `status --format json`.
type Status struct {
	Temporal    string
	Connections []struct {
		Host          string
		NeedsToken    bool   `json:"needs_token"`
		Workflow      string `json:"workflow"`
		Organizations []struct {
			Name     string
			Schedule string
			Paused   bool
			TagRegex string `json:"tag_regex"`
		}
	}
}

func (e *env) schedule(org string) *client.ScheduleDescription {
	e.t.Helper()
	desc, err := e.temporal.ScheduleClient().GetHandle(e.ctx,
		workflows.ScheduleID(e.simURL, org)).Describe(e.ctx)
	require.NoError(e.t, err, "schedule of %s", org)
	return desc
}

// eventually waits for cond, failing with msg after the deadline.
func (e *env) eventually(cond func() bool, msg string) {
	e.t.Helper()
	require.Eventually(e.t, cond, 30*time.Second, 200*time.Millisecond, msg)
}

func TestOperatorJourney(t *testing.T) {
	e := newEnv(t, threeOrgs(time.Now()))
	out := e.mustStarter("connect", "--host", e.simURL, "--allow-http")
	require.Contains(t, out, "Organizations (3)")

	// Three organizations, three schedules, in status and in Temporal.
	s := e.status()
	require.Equal(t, "ok", s.Temporal)
	require.Len(t, s.Connections, 1)
	require.Len(t, s.Connections[0].Organizations, 3)
	for _, org := range []string{"acme", "beta", "gamma"} {
		desc := e.schedule(org)
		require.Equal(t, 6*time.Hour, desc.Schedule.Spec.Intervals[0].Every)
		require.False(t, desc.Schedule.State.Paused)
	}

	e.mustStarter("sync", "--org", "acme", "--wait")
	require.Equal(t, "retain not_selected", decisionsByTag(e.report("acme"))["api:v1.9.0"])

	// A regex change re-evaluates the stored inventory without asking Quay for tags.
	e.sim.ResetStats()
	out = e.mustStarter("settings", "--org", "acme", "--tag-regex", `v1\.9\.0`)
	require.Contains(t, out, "Re-evaluating")
	e.eventually(func() bool {
		_, _, code := e.starter("", "report", "--org", "acme", "--format", "json")
		return code == 0 && decisionsByTag(e.report("acme"))["api:v1.9.0"] ==
			"scan tag_matches_regex"
	}, "the report follows the new regex")
	require.Zero(t, e.sim.Stats().ByRoute[quaysim.RouteTags], "no crawl for a re-evaluation")
	org, err := e.store.FindOrganization(e.ctx, "acme", "")
	require.NoError(t, err)
	run, err := e.store.LatestRun(e.ctx, org.ID, store.RunCompleted)
	require.NoError(t, err)
	require.Equal(t, store.KindReevaluate, run.Kind)
	changes, err := e.store.SettingsChanges(e.ctx, org.ID)
	require.NoError(t, err)
	require.Len(t, changes, 1)
	require.Equal(t, `v1\.9\.0`, changes[0].New.Retention.TagRegex)
	require.Empty(t, changes[0].Old.Retention.TagRegex)

	// Invalid settings never leave the starter.
	_, errOut, code := e.starter("", "settings", "--org", "acme", "--tag-regex", "v(1")
	require.NotEqual(t, 0, code)
	require.Contains(t, errOut, "position 2")
	_, errOut, code = e.starter("", "settings", "--org", "nope", "--keep-latest", "2")
	require.NotEqual(t, 0, code)
	require.Contains(t, errOut, `unknown organization "nope"`)

	// The schedule changes in place.
	e.mustStarter("settings", "--org", "acme", "--every", "1h")
	e.eventually(func() bool {
		return e.schedule("acme").Schedule.Spec.Intervals[0].Every == time.Hour
	}, "schedule updated to 1h")
	e.mustStarter("settings", "--org", "acme", "--cron", "0 3 * * *")
	e.eventually(func() bool {
		// The server keeps a cron expression as a structured calendar.
		spec := e.schedule("acme").Schedule.Spec
		return len(spec.Intervals) == 0 &&
			len(spec.CronExpressions)+len(spec.Calendars) > 0
	}, "schedule updated to cron")

	// Pause and resume one organization.
	e.mustStarter("pause", "--org", "beta")
	require.True(t, e.schedule("beta").Schedule.State.Paused)
	_, errOut, code = e.starter("", "sync-now", "--org", "beta")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "paused", "a paused organization refuses sync-now")
	r := e.connectionState().LastRejected
	require.Equal(t, workflows.SignalSyncNow, r.Signal)
	e.mustStarter("resume", "--org", "beta")
	require.False(t, e.schedule("beta").Schedule.State.Paused)

	// Dropping an organization deletes its schedule; its reports stay readable.
	e.mustStarter("sync", "--org", "gamma", "--wait")
	e.mustStarter("disconnect", "--host", e.simURL, "--org", "gamma")
	_, err = e.temporal.ScheduleClient().GetHandle(e.ctx,
		workflows.ScheduleID(e.simURL, "gamma")).Describe(e.ctx)
	require.Error(t, err, "gamma's schedule is deleted")
	require.Len(t, e.status().Connections[0].Organizations, 2)
	require.NotEmpty(t, e.report("gamma").Decisions)
	_, errOut, code = e.starter("", "sync", "--org", "gamma")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "was dropped")

	// A disconnected connection refuses changes until it is connected again.
	e.mustStarter("disconnect", "--host", e.simURL)
	_, errOut, code = e.starter("", "settings", "--org", "acme", "--keep-latest", "2")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "was disconnected")
	require.NotEmpty(t, e.report("acme").Decisions, "reports stay readable")
}

func (e *env) connectionState() workflows.ConnectionState {
	e.t.Helper()
	v, err := e.temporal.QueryWorkflow(e.ctx, workflows.ConnectionWorkflowID(e.simURL), "",
		workflows.StateQuery)
	require.NoError(e.t, err)
	var st workflows.ConnectionState
	require.NoError(e.t, v.Get(&st))
	return st
}

func TestWorkflowRejectsABadSignalAndKeepsItsSettings(t *testing.T) {
	e := newEnv(t, sampleDataset(time.Now()))
	e.connect()
	bad := "v(1"
	err := e.temporal.SignalWorkflow(e.ctx, workflows.ConnectionWorkflowID(e.simURL), "",
		workflows.SignalSettings, workflows.SettingsSignal{ID: "x", Organization: "acme",
			TagRegex: &bad, Actor: "test"})
	require.NoError(t, err)
	e.eventually(func() bool {
		r := e.connectionState().LastRejected
		return r != nil && strings.Contains(r.Reason, "position 2")
	}, "the workflow validates again")
	st := e.connectionState()
	require.Equal(t, "", st.Organizations[0].Settings.Retention.TagRegex)
	org, err := e.store.FindOrganization(e.ctx, "acme", "")
	require.NoError(t, err)
	require.Equal(t, "", org.Settings.TagRegex)
}

func TestRevokedTokenNeedsRotationThenSyncsAgain(t *testing.T) {
	e := newEnv(t, sampleDataset(time.Now()))
	e.connect()
	e.mustStarter("sync", "--org", "acme", "--wait")
	before := e.report("acme")

	e.sim.RevokeToken(token)
	_, _, code := e.starter("", "sync", "--org", "acme", "--wait")
	require.Equal(t, 1, code)
	e.eventually(func() bool { return e.status().Connections[0].NeedsToken },
		"status shows that the connection needs a new token")
	require.Equal(t, before, e.report("acme"), "nothing pruned")

	// Scheduled or asked-for syncs are refused until the token is rotated.
	_, errOut, code := e.starter("", "sync-now", "--org", "acme")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "rotate-token")
	_, errOut, code = e.starter("", "sync", "--org", "acme")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "needs a new token")

	const fresh = "freshToken0123456789abcdefghijklmnopqrst"
	require.NoError(t, e.sim.AddToken(quaysim.Token{Token: fresh,
		Scopes: []string{"repo:read", "user:read"}, User: "alice",
		Organizations: []string{"acme"}}))
	_, errOut, code = e.starter("", "rotate-token", "--host", e.simURL)
	require.NotEqual(t, 0, code, "the old token is refused by Quay")
	require.Contains(t, errOut, "401")
	e.token = fresh
	out := e.mustStarter("rotate-token", "--host", e.simURL)
	require.Contains(t, out, "rotated")
	require.NotContains(t, out, fresh)
	require.False(t, e.status().Connections[0].NeedsToken)
	e.mustStarter("sync", "--org", "acme", "--wait")

	// The token is in no workflow history.
	for _, id := range []string{workflows.ConnectionWorkflowID(e.simURL),
		workflows.WorkflowID(e.simURL, "acme")} {
		it := e.temporal.GetWorkflowHistory(e.ctx, id, "", false, 0)
		for it.HasNext() {
			ev, err := it.Next()
			require.NoError(t, err)
			b, _ := json.Marshal(ev)
			require.NotContains(t, string(b), fresh)
			require.NotContains(t, string(b), token)
		}
	}
}

func TestSettingsChangedDuringASyncApplyAfterIt(t *testing.T) {
	e := newEnv(t, sampleDataset(time.Now()))
	e.connect()
	e.mustStarter("sync", "--org", "acme", "--wait")
	e.sim.SetFaults(quaysim.Faults{Latency: 300 * time.Millisecond})
	e.mustStarter("sync", "--org", "acme")
	e.eventually(func() bool {
		return e.sqlCount(`SELECT count(*) FROM runs WHERE status = 'running'`) == 1
	}, "the second sync is running")
	e.mustStarter("settings", "--org", "acme", "--keep-latest", "3")
	e.eventually(func() bool {
		return e.sqlCount(`SELECT count(*) FROM runs WHERE kind = 'reevaluate'
			AND status = 'completed' AND keep_latest = 3`) == 1
	}, "the re-evaluation asked for during the sync runs after it")
	require.Equal(t, 3, e.report("acme").Settings.KeepLatest)
	require.Zero(t, e.sqlCount(`SELECT count(*) FROM runs a JOIN runs b
		ON a.organization_id = b.organization_id AND a.id < b.id
		WHERE b.started_at < coalesce(a.finished_at, 'infinity')`), "no overlapping runs")
}

func TestSyncAskedDuringAReevaluationCrawlsAfterIt(t *testing.T) {
	e := newEnv(t, sampleDataset(time.Now()))
	e.connect()
	e.mustStarter("sync", "--org", "acme", "--wait")
	e.sim.SetFaults(quaysim.Faults{Latency: 100 * time.Millisecond})
	e.mustStarter("settings", "--org", "acme", "--keep-latest", "2")
	e.mustStarter("sync", "--org", "acme", "--wait")
	org, err := e.store.FindOrganization(e.ctx, "acme", "")
	require.NoError(t, err)
	last, err := e.store.LatestRun(e.ctx, org.ID, store.RunCompleted)
	require.NoError(t, err)
	require.Equal(t, store.KindSync, last.Kind, "sync --wait ends with a crawl")
	require.Equal(t, 2, last.Settings.KeepLatest)
	require.Equal(t, 1, e.sqlCount(`SELECT count(*) FROM runs WHERE kind = 'reevaluate'`))
}
