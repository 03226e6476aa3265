package workflows

import (
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"quaykeeper/activities"
)

// Register puts quaykeeper's workflows and activities on a worker (or a test environment),
// under the names the starter uses.
func Register(w worker.Registry, a *activities.Activities) {
	RegisterWorkflows(w)
	w.RegisterActivity(a)
}

// RegisterWorkflows registers the workflows alone, as a replayer needs them.
func RegisterWorkflows(w worker.WorkflowRegistry) {
	w.RegisterWorkflowWithOptions(SyncWorkflow, workflow.RegisterOptions{Name: SyncWorkflowName})
	w.RegisterWorkflowWithOptions(ConnectionWorkflow,
		workflow.RegisterOptions{Name: ConnectionWorkflowName})
	w.RegisterWorkflowWithOptions(ScheduledSyncWorkflow,
		workflow.RegisterOptions{Name: ScheduledSyncName})
}
