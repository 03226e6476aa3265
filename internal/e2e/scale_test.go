package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"

	"quaykeeper/internal/quaysim"
	"quaykeeper/workflows"
)

// manyOrgs has n small organizations, all seen by one token.
func manyOrgs(n int, now time.Time) *quaysim.Dataset {
	ds := &quaysim.Dataset{Tokens: []quaysim.Token{{Token: token,
		Scopes: []string{"repo:read", "user:read"}, User: "alice"}}}
	for i := range n {
		name := fmt.Sprintf("org%02d", i)
		ds.Organizations = append(ds.Organizations, quaysim.Organization{Name: name,
			Repositories: []quaysim.Repository{{Name: "app", Tags: []quaysim.Tag{
				{Name: "v2", ManifestDigest: digest(name + "2"), StartTS: now.Unix() - 60},
				{Name: "v1", ManifestDigest: digest(name + "1"), StartTS: now.Unix() - 3600},
			}}}})
		ds.Tokens[0].Organizations = append(ds.Tokens[0].Organizations, name)
	}
	return ds
}

// TestFiftyOrganizationsOnSchedulesShareTwoWorkers runs 50 organizations on 3-second
// schedules through two worker processes on one task queue, and checks that every
// organization syncs, that no two runs of one organization overlap, and that both workers
// did work.
func TestFiftyOrganizationsOnSchedulesShareTwoWorkers(t *testing.T) {
	const orgs = 50
	e := newBareEnv(t, manyOrgs(orgs, time.Now()))
	e.startWorkerProcess("QUAYKEEPER_QUAY_RPS=500")
	e.startWorkerProcess("QUAYKEEPER_QUAY_RPS=500")
	out := e.mustStarter("connect", "--host", e.simURL, "--allow-http")
	require.Contains(t, out, fmt.Sprintf("Organizations (%d)", orgs))

	every := 3 * time.Second
	for i := range orgs {
		err := e.temporal.SignalWorkflow(e.ctx, workflows.ConnectionWorkflowID(e.simURL), "",
			workflows.SignalSettings, workflows.SettingsSignal{ID: fmt.Sprintf("every-%d", i),
				Organization: fmt.Sprintf("org%02d", i), Every: &every, Actor: "test"})
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool {
		return e.sqlCount(`SELECT count(*) FROM (SELECT organization_id FROM runs
			WHERE status = 'completed' GROUP BY organization_id HAVING count(*) >= 2) c`) == orgs
	}, 3*time.Minute, time.Second, "every organization completes two scheduled syncs")

	overlaps := e.sqlCount(`SELECT count(*) FROM runs a JOIN runs b
		ON a.organization_id = b.organization_id AND a.id < b.id
		WHERE b.started_at < coalesce(a.finished_at, 'infinity')`)
	require.Zero(t, overlaps, "runs of one organization never overlap")

	identities := map[string]bool{}
	resp, err := e.temporal.ListWorkflow(e.ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Query: fmt.Sprintf("WorkflowType = %q", workflows.SyncWorkflowName), PageSize: 40})
	require.NoError(t, err)
	for _, ex := range resp.Executions {
		it := e.temporal.GetWorkflowHistory(e.ctx, ex.Execution.WorkflowId,
			ex.Execution.RunId, false, 0)
		for it.HasNext() {
			ev, err := it.Next()
			require.NoError(t, err)
			if a := ev.GetActivityTaskStartedEventAttributes(); a != nil {
				identities[a.Identity] = true
			}
		}
	}
	require.GreaterOrEqual(t, len(identities), 2, "both workers ran activities: %v",
		identities)
}

// sqlCount runs a counting query against the environment's database.
func (e *env) sqlCount(query string, args ...any) int {
	e.t.Helper()
	conn, err := pgx.Connect(e.ctx, e.dbURL)
	require.NoError(e.t, err)
	defer conn.Close(e.ctx)
	var n int
	require.NoError(e.t, conn.QueryRow(e.ctx, query, args...).Scan(&n))
	return n
}
