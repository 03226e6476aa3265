package activities

import (
	"context"
	"fmt"
	"iter"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"quaykeeper/internal/policy"
	"quaykeeper/internal/store"
)

// CompleteCrawlResult counts what the complete crawl listed.
type CompleteCrawlResult struct {
	Repositories int
	Tags         int
}

// CompleteCrawl marks the run's crawl complete once every batch has been listed. Only then
// may the run evaluate and prune.
func (a *Activities) CompleteCrawl(ctx context.Context, in RunInput) (CompleteCrawlResult,
	error) {
	run, err := a.Store.CompleteCrawl(ctx, in.RunID)
	if err != nil {
		return CompleteCrawlResult{}, err
	}
	return CompleteCrawlResult{Repositories: run.Repositories, Tags: run.Tags}, nil
}

// EvaluatePolicy decides every tag of the run's crawl with the run's settings at the run's
// instant, adds a tag_removed prune for each tag of the inventory the crawl no longer lists,
// and stores the decisions (replacing those of an earlier attempt).
func (a *Activities) EvaluatePolicy(ctx context.Context, in RunInput) (store.Summary, error) {
	run, err := a.Store.Run(ctx, in.RunID)
	if err != nil {
		return store.Summary{}, err
	}
	if !run.CrawlComplete {
		return store.Summary{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"run %d: the crawl is not complete, so it is not evaluated", run.ID),
			ErrTypeIncompleteCrawl, nil)
	}
	p, err := policy.Compile(run.Settings)
	if err != nil {
		return store.Summary{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("run %d: %v", run.ID, err), ErrTypeInvalidSettings, nil)
	}
	removed, err := a.Store.RemovedTags(ctx, run.OrganizationID, run.CrawlRunID)
	if err != nil {
		return store.Summary{}, err
	}
	decisions := Decide(p, run.EvaluatedAt, a.Store.RunTags(ctx, run.CrawlRunID), removed)
	sum, err := a.Store.ReplaceDecisions(ctx, run.ID, decisions)
	if err != nil {
		return store.Summary{}, err
	}
	activity.GetLogger(ctx).Info("policy evaluated", "runId", run.ID, "scan", sum.Scan,
		"retain", sum.Retain, "prune", sum.Prune, "removed", len(removed))
	return sum, nil
}

// Decide evaluates a stored crawl, one repository at a time, and yields a decision for every
// active tag followed by a tag_removed prune for every tag in removed. It is shared by the
// sync and by previews, which evaluate the same crawl with other settings.
func Decide(p *policy.Policy, at time.Time, repos iter.Seq2[[]store.StoredTag, error],
	removed []store.StoredTag) iter.Seq2[store.Decision, error] {
	return func(yield func(store.Decision, error) bool) {
		var tags []policy.Tag
		for group, err := range repos {
			if err != nil {
				yield(store.Decision{}, err)
				return
			}
			tags = tags[:0]
			for _, t := range group {
				tags = append(tags, t.Tag)
			}
			for i, res := range p.EvaluateRepository(at, tags) {
				if !res.Evaluated {
					continue
				}
				if !yield(decisionOf(group[i], res.Decision), nil) {
					return
				}
			}
		}
		gone := policy.Decision{Kind: policy.KindPrune,
			Reasons: []policy.Reason{policy.ReasonTagRemoved}}
		for _, t := range removed {
			if !yield(decisionOf(t, gone), nil) {
				return
			}
		}
	}
}

func decisionOf(t store.StoredTag, d policy.Decision) store.Decision {
	return store.Decision{TagID: t.ID, Repository: t.Repository, Tag: t.Name, Digest: t.Digest,
		Created: t.Created, Kind: d.Kind, Reasons: d.Reasons}
}

// PersistDecisions makes the run's scan and retain decisions the tags' current fate.
func (a *Activities) PersistDecisions(ctx context.Context, in RunInput) (int, error) {
	return a.Store.ApplyDecisions(ctx, in.RunID)
}

// Prune takes the run's pruned tags out of the managed inventory and completes the run. The
// store refuses a run whose crawl is not complete.
func (a *Activities) Prune(ctx context.Context, in RunInput) (store.Summary, error) {
	n, err := a.Store.Prune(ctx, in.RunID)
	if err != nil {
		return store.Summary{}, err
	}
	run, err := a.Store.Run(ctx, in.RunID)
	if err != nil {
		return store.Summary{}, err
	}
	// What was recorded for a pruned image alone, its findings, leaves with it.
	dropped, err := a.Store.DropUnmanagedFindings(ctx, run.OrganizationID)
	if err != nil {
		return store.Summary{}, err
	}
	sum, err := a.Store.DecisionSummary(ctx, in.RunID)
	if err != nil {
		return store.Summary{}, err
	}
	if err := a.Store.FinishRun(ctx, run.ID, sum); err != nil {
		return store.Summary{}, err
	}
	a.Metrics.RunFinished(ctx, run.Kind, store.RunCompleted)
	a.Metrics.Decided(ctx, string(policy.KindScan), sum.Scan)
	a.Metrics.Decided(ctx, string(policy.KindRetain), sum.Retain)
	a.Metrics.Decided(ctx, string(policy.KindPrune), sum.Prune)
	activity.GetLogger(ctx).Info("run completed", "runId", run.ID, "pruned", n,
		"droppedFindings", dropped)
	return sum, nil
}

// FailRunInput records why a run failed.
type FailRunInput struct {
	RunID   int64
	Message string
}

// FailRun marks the run failed with the message a person reads in reports.
func (a *Activities) FailRun(ctx context.Context, in FailRunInput) error {
	run, err := a.Store.Run(ctx, in.RunID)
	if err != nil {
		return err
	}
	if err := a.Store.FailRun(ctx, in.RunID, in.Message); err != nil {
		return err
	}
	a.Metrics.RunFinished(ctx, run.Kind, store.RunFailed)
	return nil
}
