// Package workflows holds quaykeeper's Temporal workflows. They decide the order of the
// sync's steps and keep its state; every step that touches Quay or PostgreSQL is an activity.
package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"quaykeeper/activities"
	"quaykeeper/internal/store"
)

// Names the starter and the worker agree on.
const (
	// SyncWorkflowName is the registered name of SyncWorkflow.
	SyncWorkflowName = "OrganizationSync"
	// ProgressQuery answers with the sync's Progress.
	ProgressQuery = "progress"
)

// Defaults of SyncInput's tuning fields.
const (
	DefaultBatchSize   = 25
	DefaultConcurrency = 4
	// DefaultBatchesPerRun bounds the crawl batches one workflow execution runs before it
	// continues as new, which keeps every history to a few thousand events.
	DefaultBatchesPerRun = 250
)

// WorkflowID is the sync's workflow ID for an organization, one per organization so that two
// syncs of it never run at once, e.g. "quay-sync/quay.example.com/acme".
func WorkflowID(host, org string) string { return "quay-sync/" + HostKey(host) + "/" + org }

// SyncInput starts a sync of one organization. The fields after BatchesPerRun carry the
// state of a sync that continued as new; a new sync leaves them zero.
type SyncInput struct {
	OrganizationID int64
	Host           string
	Organization   string
	// Kind is store.KindSync (the default: crawl, then decide) or store.KindReevaluate
	// (decide again on the latest complete crawl, without asking Quay anything).
	Kind string
	// ConnectionWorkflowID, when set, is told how the run ended (SignalRunFinished).
	ConnectionWorkflowID string

	// Optional: defaulted to DefaultBatchSize, DefaultConcurrency, DefaultBatchesPerRun.
	BatchSize     int
	Concurrency   int
	BatchesPerRun int

	RunID        int64
	EvaluatedAt  time.Time
	Repositories int
	NextBatch    int
	Tags         int
}

// SyncResult is what a completed sync reports.
type SyncResult struct {
	RunID        int64
	Repositories int
	Tags         int
	Summary      store.Summary
}

// Phases of a sync, as the progress query reports them.
const (
	PhaseStarting        = "starting"
	PhaseRepositories    = "listing repositories"
	PhaseTags            = "listing tags"
	PhaseEvaluating      = "evaluating policy"
	PhasePersisting      = "persisting decisions"
	PhasePruning         = "pruning"
	PhaseVulnerabilities = "ingesting vulnerabilities"
	PhaseCompliance      = "evaluating compliance"
	PhaseDone            = "done"
)

// Progress is the sync's state, for `starter sync --wait` and the Temporal UI.
type Progress struct {
	Phase        string
	RunID        int64
	Repositories int
	Batches      int
	BatchesDone  int
	Tags         int
	Summary      store.Summary
}

// SyncWorkflow crawls one organization, evaluates its retention policy, persists the
// decisions and prunes. Prune runs only after every batch of the crawl has completed: any
// failure before that ends the run with nothing removed.
func SyncWorkflow(ctx workflow.Context, in SyncInput) (SyncResult, error) {
	s := &syncState{in: in, progress: Progress{Phase: PhaseStarting, RunID: in.RunID,
		Repositories: in.Repositories, BatchesDone: in.NextBatch, Tags: in.Tags}}
	if err := workflow.SetQueryHandler(ctx, ProgressQuery, func() (Progress, error) {
		return s.progress, nil
	}); err != nil {
		return SyncResult{}, fmt.Errorf("register progress query: %w", err)
	}
	res, err := s.run(ctx)
	if workflow.IsContinueAsNewError(err) {
		return res, err
	}
	if err != nil && s.in.RunID != 0 {
		s.fail(ctx, err)
	}
	s.finish(ctx, res, err)
	return res, err
}

// syncState is one execution of SyncWorkflow.
type syncState struct {
	in       SyncInput
	progress Progress
}

// acts names the activities for ExecuteActivity; its methods are never called here.
var acts *activities.Activities

func (s *syncState) run(ctx workflow.Context) (SyncResult, error) {
	in := &s.in
	if in.BatchSize <= 0 {
		in.BatchSize = DefaultBatchSize
	}
	if in.Concurrency <= 0 {
		in.Concurrency = DefaultConcurrency
	}
	if in.BatchesPerRun <= 0 {
		in.BatchesPerRun = DefaultBatchesPerRun
	}
	short := workflow.WithActivityOptions(ctx, activityOptions(2*time.Minute, 0))
	if in.Kind == store.KindReevaluate {
		return s.reevaluate(ctx, short)
	}
	if in.RunID == 0 {
		in.EvaluatedAt = workflow.Now(ctx).UTC()
		var started activities.StartRunResult
		err := workflow.ExecuteActivity(short, acts.StartRun, activities.StartRunInput{
			OrganizationID: in.OrganizationID, EvaluatedAt: in.EvaluatedAt}).Get(ctx, &started)
		if err != nil {
			return SyncResult{}, err
		}
		in.RunID = started.RunID
		s.progress.RunID = in.RunID
		if err := workflow.ExecuteActivity(short, acts.CheckAccess,
			activities.RunInput{RunID: in.RunID}).Get(ctx, nil); err != nil {
			return SyncResult{}, err
		}

		s.progress.Phase = PhaseRepositories
		listing := workflow.WithActivityOptions(ctx, activityOptions(time.Hour, time.Minute))
		var listed activities.ListRepositoriesResult
		err = workflow.ExecuteActivity(listing, acts.ListRepositories,
			activities.RunInput{RunID: in.RunID}).Get(ctx, &listed)
		if err != nil {
			return SyncResult{}, err
		}
		in.Repositories = listed.Repositories
		s.progress.Repositories = listed.Repositories
	}

	if err := s.crawl(ctx); err != nil {
		return SyncResult{}, err
	}
	batches := s.batches()
	if in.NextBatch < batches {
		next := *in
		return SyncResult{}, workflow.NewContinueAsNewError(ctx, SyncWorkflow, next)
	}

	var crawled activities.CompleteCrawlResult
	err := workflow.ExecuteActivity(short, acts.CompleteCrawl, activities.RunInput{RunID: in.RunID}).
		Get(ctx, &crawled)
	if err != nil {
		return SyncResult{}, err
	}
	s.progress.Tags = crawled.Tags
	return s.decide(ctx, crawled)
}

// reevaluate decides again on the latest complete crawl with the organization's current
// settings: a new run, without a crawl.
func (s *syncState) reevaluate(ctx, short workflow.Context) (SyncResult, error) {
	s.in.EvaluatedAt = workflow.Now(ctx).UTC()
	var started activities.StartRunResult
	if err := workflow.ExecuteActivity(short, acts.StartReevaluation, activities.StartRunInput{
		OrganizationID: s.in.OrganizationID, EvaluatedAt: s.in.EvaluatedAt}).
		Get(ctx, &started); err != nil {
		return SyncResult{}, err
	}
	s.in.RunID, s.progress.RunID = started.RunID, started.RunID
	s.progress.Repositories, s.progress.Tags = started.Repositories, started.Tags
	return s.decide(ctx, activities.CompleteCrawlResult{Repositories: started.Repositories,
		Tags: started.Tags})
}

// decide evaluates, persists and prunes the run, whose crawl is complete.
func (s *syncState) decide(ctx workflow.Context, crawled activities.CompleteCrawlResult) (
	SyncResult, error) {
	in := &s.in
	runInput := activities.RunInput{RunID: in.RunID}
	long := workflow.WithActivityOptions(ctx, activityOptions(30*time.Minute, 0))

	s.progress.Phase = PhaseEvaluating
	if err := workflow.ExecuteActivity(long, acts.EvaluatePolicy, runInput).
		Get(ctx, &s.progress.Summary); err != nil {
		return SyncResult{}, err
	}
	s.progress.Phase = PhasePersisting
	if err := workflow.ExecuteActivity(long, acts.PersistDecisions, runInput).
		Get(ctx, nil); err != nil {
		return SyncResult{}, err
	}
	s.progress.Phase = PhasePruning
	if err := workflow.ExecuteActivity(long, acts.Prune, runInput).
		Get(ctx, &s.progress.Summary); err != nil {
		return SyncResult{}, err
	}
	// Histories recorded before vulnerability ingestion existed end after Prune.
	if workflow.GetVersion(ctx, "vulnerabilities", workflow.DefaultVersion, 1) == 1 {
		s.progress.Phase = PhaseVulnerabilities
		ingest := workflow.WithActivityOptions(ctx, activityOptions(time.Hour, time.Minute))
		if err := workflow.ExecuteActivity(ingest, acts.IngestVulnerabilities, runInput).
			Get(ctx, nil); err != nil {
			return SyncResult{}, err
		}
		s.progress.Phase = PhaseCompliance
		if err := workflow.ExecuteActivity(long, acts.EvaluateCompliance, runInput).
			Get(ctx, nil); err != nil {
			return SyncResult{}, err
		}
	}
	s.progress.Phase = PhaseDone
	return SyncResult{RunID: in.RunID, Repositories: crawled.Repositories, Tags: crawled.Tags,
		Summary: s.progress.Summary}, nil
}

func (s *syncState) batches() int {
	return (s.in.Repositories + s.in.BatchSize - 1) / s.in.BatchSize
}

// crawl runs the tag-listing batches from in.NextBatch with at most Concurrency in flight,
// stopping after BatchesPerRun batches so the caller can continue as new. On return every
// batch before in.NextBatch has completed; on error, in-flight batches are drained first.
func (s *syncState) crawl(ctx workflow.Context) error {
	in := &s.in
	s.progress.Phase = PhaseTags
	s.progress.Batches = s.batches()
	opts := activityOptions(time.Hour, time.Minute)
	crawlCtx := workflow.WithActivityOptions(ctx, opts)
	stop := min(s.batches(), in.NextBatch+in.BatchesPerRun)
	sel := workflow.NewSelector(ctx)
	next, pending := in.NextBatch, 0
	var firstErr error
	for {
		for firstErr == nil && pending < in.Concurrency && next < stop {
			f := workflow.ExecuteActivity(crawlCtx, acts.CrawlTags, activities.CrawlTagsInput{
				RunID: in.RunID, Offset: next * in.BatchSize, Limit: in.BatchSize})
			next++
			pending++
			sel.AddFuture(f, func(f workflow.Future) {
				pending--
				var res activities.CrawlTagsResult
				if err := f.Get(ctx, &res); err != nil {
					if firstErr == nil {
						firstErr = err
					}
					return
				}
				s.progress.BatchesDone++
				s.progress.Tags += res.Tags
			})
		}
		if pending == 0 {
			break
		}
		sel.Select(ctx)
	}
	if firstErr != nil {
		return firstErr
	}
	in.NextBatch = next
	in.Tags = s.progress.Tags
	return nil
}

// finish tells the connection workflow how the run ended and puts the run's counts in the
// workflow's memo, for the Temporal UI.
func (s *syncState) finish(ctx workflow.Context, res SyncResult, runErr error) {
	log := workflow.GetLogger(ctx)
	done := RunFinishedSignal{Organization: s.in.Organization, RunID: s.in.RunID,
		Kind: s.in.Kind, Outcome: store.RunCompleted, At: workflow.Now(ctx).UTC(),
		Repositories: res.Repositories, Tags: res.Tags, Summary: res.Summary}
	if done.Kind == "" {
		done.Kind = store.KindSync
	}
	if runErr != nil {
		done.Outcome, done.Error = store.RunFailed, FailureMessage(runErr)
		var appErr *temporal.ApplicationError
		if errors.As(runErr, &appErr) {
			done.ErrorType = appErr.Type()
		}
	}
	memo := map[string]any{"runId": done.RunID, "kind": done.Kind, "outcome": done.Outcome,
		"repositories": done.Repositories, "tags": done.Tags, "scan": done.Summary.Scan,
		"retain": done.Summary.Retain, "prune": done.Summary.Prune}
	if err := workflow.UpsertMemo(ctx, memo); err != nil {
		log.Warn("could not set the run's memo", "error", err)
	}
	if s.in.ConnectionWorkflowID == "" {
		return
	}
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	err := workflow.SignalExternalWorkflow(dctx, s.in.ConnectionWorkflowID, "",
		SignalRunFinished, done).Get(dctx, nil)
	if err != nil {
		log.Warn("could not tell the connection workflow how the run ended",
			"connectionWorkflowId", s.in.ConnectionWorkflowID, "error", err)
	}
}

// FailureMessage is the message a person reads: an application error's own message,
// without the activity and workflow wrapping around it.
func FailureMessage(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Message()
	}
	return err.Error()
}

// fail records the failure on the run, even when the workflow itself was cancelled.
func (s *syncState) fail(ctx workflow.Context, cause error) {
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	dctx = workflow.WithActivityOptions(dctx, activityOptions(time.Minute, 0))
	err := workflow.ExecuteActivity(dctx, acts.FailRun, activities.FailRunInput{
		RunID: s.in.RunID, Message: FailureMessage(cause)}).Get(dctx, nil)
	if err != nil {
		workflow.GetLogger(ctx).Error("could not record the run's failure", "runId",
			s.in.RunID, "error", err)
	}
}

// activityOptions are the timeouts and retry policy of the sync's activities: retryable
// failures back off exponentially up to a minute; permanent ones fail at once.
func activityOptions(startToClose, heartbeat time.Duration) workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout: startToClose,
		HeartbeatTimeout:    heartbeat,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        2 * time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			MaximumAttempts:        8,
			NonRetryableErrorTypes: activities.NonRetryableErrorTypes,
		},
	}
}
