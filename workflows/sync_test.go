package workflows_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"quaykeeper/activities"
	"quaykeeper/internal/store"
	"quaykeeper/workflows"
)

// acts names the activities to mock; its methods never run in these tests.
var acts *activities.Activities

func newEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(workflows.SyncWorkflow,
		workflow.RegisterOptions{Name: workflows.SyncWorkflowName})
	env.RegisterActivity(acts)
	return env
}

func expectStart(env *testsuite.TestWorkflowEnvironment, repos int) {
	env.OnActivity(acts.StartRun, mock.Anything, mock.Anything).
		Return(activities.StartRunResult{RunID: 7}, nil)
	env.OnActivity(acts.CheckAccess, mock.Anything, activities.RunInput{RunID: 7}).Return(nil)
	env.OnActivity(acts.ListRepositories, mock.Anything, activities.RunInput{RunID: 7}).
		Return(activities.ListRepositoriesResult{Repositories: repos}, nil)
}

func TestSyncRunsEveryStepInOrder(t *testing.T) {
	env := newEnv(t)
	expectStart(env, 10)
	var offsets []int
	env.OnActivity(acts.CrawlTags, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.CrawlTagsInput) (activities.CrawlTagsResult, error) {
			offsets = append(offsets, in.Offset)
			return activities.CrawlTagsResult{Repositories: in.Limit, Tags: 3}, nil
		})
	var order []string
	env.OnActivity(acts.CompleteCrawl, mock.Anything, activities.RunInput{RunID: 7}).Return(
		activities.CompleteCrawlResult{Repositories: 10, Tags: 12}, nil).Run(
		func(mock.Arguments) { order = append(order, "complete") })
	env.OnActivity(acts.EvaluatePolicy, mock.Anything, activities.RunInput{RunID: 7}).Return(
		store.Summary{Scan: 2, Retain: 4, Prune: 6}, nil).Run(
		func(mock.Arguments) { order = append(order, "evaluate") })
	env.OnActivity(acts.PersistDecisions, mock.Anything, activities.RunInput{RunID: 7}).Return(
		6, nil).Run(func(mock.Arguments) { order = append(order, "persist") })
	env.OnActivity(acts.Prune, mock.Anything, activities.RunInput{RunID: 7}).Return(
		store.Summary{Scan: 2, Retain: 4, Prune: 6}, nil).Run(
		func(mock.Arguments) { order = append(order, "prune") })
	env.OnActivity(acts.IngestVulnerabilities, mock.Anything, activities.RunInput{RunID: 7}).
		Return(activities.IngestResult{}, nil).Run(
		func(mock.Arguments) { order = append(order, "ingest") })
	env.OnActivity(acts.EvaluateCompliance, mock.Anything, activities.RunInput{RunID: 7}).
		Return(activities.ComplianceResult{}, nil).Run(
		func(mock.Arguments) { order = append(order, "compliance") })

	env.ExecuteWorkflow(workflows.SyncWorkflow, workflows.SyncInput{OrganizationID: 1,
		BatchSize: 4, Concurrency: 2})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res workflows.SyncResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, workflows.SyncResult{RunID: 7, Repositories: 10, Tags: 12,
		Summary: store.Summary{Scan: 2, Retain: 4, Prune: 6}}, res)
	require.ElementsMatch(t, []int{0, 4, 8}, offsets)
	require.Equal(t, []string{"complete", "evaluate", "persist", "prune", "ingest",
		"compliance"}, order)
}

func TestFailedCrawlNeverPrunes(t *testing.T) {
	env := newEnv(t)
	expectStart(env, 10)
	env.OnActivity(acts.CrawlTags, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.CrawlTagsInput) (activities.CrawlTagsResult, error) {
			if in.Offset == 4 {
				return activities.CrawlTagsResult{}, temporal.NewNonRetryableApplicationError(
					"token rejected", activities.ErrTypeQuayUnauthorized, nil)
			}
			return activities.CrawlTagsResult{Repositories: in.Limit}, nil
		})
	var failed activities.FailRunInput
	env.OnActivity(acts.FailRun, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.FailRunInput) error { failed = in; return nil })

	env.ExecuteWorkflow(workflows.SyncWorkflow, workflows.SyncInput{OrganizationID: 1,
		BatchSize: 4, Concurrency: 1})
	require.True(t, env.IsWorkflowCompleted())
	err := env.GetWorkflowError()
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "error %v", err)
	require.Equal(t, activities.ErrTypeQuayUnauthorized, appErr.Type())
	require.Equal(t, activities.FailRunInput{RunID: 7, Message: "token rejected"}, failed)
	// CompleteCrawl, EvaluatePolicy, PersistDecisions and Prune have no expectation: the
	// test environment fails the workflow if any of them is called.
}

func TestLargeCrawlContinuesAsNew(t *testing.T) {
	env := newEnv(t)
	expectStart(env, 100)
	env.OnActivity(acts.CrawlTags, mock.Anything, mock.Anything).Return(
		activities.CrawlTagsResult{Repositories: 10, Tags: 5}, nil)

	env.ExecuteWorkflow(workflows.SyncWorkflow, workflows.SyncInput{OrganizationID: 1,
		BatchSize: 10, Concurrency: 3, BatchesPerRun: 4})
	err := env.GetWorkflowError()
	require.True(t, workflow.IsContinueAsNewError(err), "error %v", err)
	var can *workflow.ContinueAsNewError
	require.True(t, errors.As(err, &can))
	var next workflows.SyncInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	require.Equal(t, int64(7), next.RunID)
	require.Equal(t, 4, next.NextBatch)
	require.Equal(t, 100, next.Repositories)
	require.Equal(t, 20, next.Tags)
	require.False(t, next.EvaluatedAt.IsZero(), "the evaluation instant is carried over")
}

func TestResumedCrawlFinishes(t *testing.T) {
	env := newEnv(t)
	var offsets []int
	env.OnActivity(acts.CrawlTags, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.CrawlTagsInput) (activities.CrawlTagsResult, error) {
			offsets = append(offsets, in.Offset)
			return activities.CrawlTagsResult{Repositories: 10, Tags: 1}, nil
		})
	env.OnActivity(acts.CompleteCrawl, mock.Anything, mock.Anything).Return(
		activities.CompleteCrawlResult{Repositories: 100, Tags: 10}, nil)
	env.OnActivity(acts.EvaluatePolicy, mock.Anything, mock.Anything).Return(store.Summary{}, nil)
	env.OnActivity(acts.PersistDecisions, mock.Anything, mock.Anything).Return(0, nil)
	env.OnActivity(acts.Prune, mock.Anything, mock.Anything).Return(store.Summary{}, nil)
	env.OnActivity(acts.IngestVulnerabilities, mock.Anything, mock.Anything).Return(
		activities.IngestResult{}, nil)
	env.OnActivity(acts.EvaluateCompliance, mock.Anything, mock.Anything).Return(
		activities.ComplianceResult{}, nil)

	// A continued execution: StartRun and ListRepositories have no expectation, so calling
	// them again would fail the test.
	env.ExecuteWorkflow(workflows.SyncWorkflow, workflows.SyncInput{OrganizationID: 1,
		BatchSize: 10, Concurrency: 3, BatchesPerRun: 100, RunID: 7, Repositories: 100,
		NextBatch: 4})
	require.NoError(t, env.GetWorkflowError())
	require.ElementsMatch(t, []int{40, 50, 60, 70, 80, 90}, offsets)
}

func TestWorkflowID(t *testing.T) {
	require.Equal(t, "quay-sync/quay.example.com/acme",
		workflows.WorkflowID("https://quay.example.com", "acme"))
	require.Equal(t, "quay-sync/127.0.0.1:8480/acme",
		workflows.WorkflowID("http://127.0.0.1:8480", "acme"))
}
