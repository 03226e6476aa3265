package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/worker"

	"quaykeeper/workflows"
)

// TestHistoriesReplay runs both workflows through their paths on a real server, then replays
// every history with the current code. With QUAYKEEPER_RECORD_HISTORIES=DIR it also writes
// them to DIR (`make record-histories` refreshes workflows/testdata/histories, which the
// workflows package replays on every test run, so a change that breaks determinism fails).
func TestHistoriesReplay(t *testing.T) {
	e := newEnv(t, sampleDataset(time.Now()))
	e.connect()
	e.mustStarter("sync", "--org", "acme", "--wait")
	e.mustStarter("settings", "--org", "acme", "--tag-regex", `v1\..*`, "--every", "2h")
	e.eventually(func() bool {
		return e.sqlCount(`SELECT count(*) FROM runs WHERE kind = 'reevaluate'
			AND status = 'completed'`) == 1
	}, "the re-evaluation completes")
	e.mustStarter("pause", "--org", "acme")
	e.mustStarter("resume", "--org", "acme")
	e.sim.RevokeToken(token)
	_, _, code := e.starter("", "sync", "--org", "acme", "--wait")
	require.Equal(t, 1, code)

	var resp *workflowservice.ListWorkflowExecutionsResponse
	e.eventually(func() bool {
		var err error
		resp, err = e.temporal.ListWorkflow(e.ctx,
			&workflowservice.ListWorkflowExecutionsRequest{})
		return err == nil && len(resp.Executions) >= 4
	}, "visibility lists the executions")
	histories := map[string]*historypb.History{}
	for _, ex := range resp.Executions {
		var events []*historypb.HistoryEvent
		it := e.temporal.GetWorkflowHistory(e.ctx, ex.Execution.WorkflowId,
			ex.Execution.RunId, false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			require.NoError(t, err)
			events = append(events, ev)
		}
		runID := ex.Execution.RunId
		name := ex.Type.Name + "-" + ex.Status.String() + "-" + runID[len(runID)-8:]
		histories[strings.ToLower(name)] = &historypb.History{Events: events}
	}
	require.GreaterOrEqual(t, len(histories), 4, "sync, re-evaluation, failed sync, connection")

	replayer := worker.NewWorkflowReplayer()
	workflows.RegisterWorkflows(replayer)
	dir := os.Getenv("QUAYKEEPER_RECORD_HISTORIES")
	for name, h := range histories {
		require.NoError(t, replayer.ReplayWorkflowHistory(nil, h), "replay %s", name)
		if dir != "" {
			b, err := temporalproto.CustomJSONMarshalOptions{Indent: "  "}.Marshal(h)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(dir, name+".json"), b, 0o644))
		}
	}
}
