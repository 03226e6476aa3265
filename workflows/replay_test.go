package workflows_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"

	"quaykeeper/workflows"
)

// TestRecordedHistoriesReplay replays histories recorded from earlier versions of the
// workflows (`make record-histories`). A change that alters what a workflow does with the
// same history fails here; put such a change behind workflow.GetVersion.
func TestRecordedHistoriesReplay(t *testing.T) {
	files, err := filepath.Glob("testdata/histories/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files, "no recorded histories in testdata/histories")
	replayer := worker.NewWorkflowReplayer()
	workflows.RegisterWorkflows(replayer)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			require.NoError(t, replayer.ReplayWorkflowHistoryFromJSONFile(nil, f))
		})
	}
}
