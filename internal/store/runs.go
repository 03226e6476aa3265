package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"quaykeeper/internal/policy"
)

// Run statuses.
const (
	RunRunning   = "running"
	RunCompleted = "completed"
	RunFailed    = "failed"
)

// Summary counts a run's decisions by kind.
type Summary struct {
	Scan   int `json:"scan"`
	Retain int `json:"retain"`
	Prune  int `json:"prune"`
}

// Run kinds.
const (
	KindSync       = "sync"
	KindReevaluate = "reevaluate"
)

// Run is one sync of one organization, or one re-evaluation of an earlier crawl.
type Run struct {
	ID   int64
	Kind string
	// CrawlRunID is the run whose crawl this run evaluates: itself for a sync.
	CrawlRunID     int64
	OrganizationID int64
	WorkflowID     string
	WorkflowRunID  string
	Status         string
	EvaluatedAt    time.Time
	StartedAt      time.Time
	FinishedAt     *time.Time
	Settings       policy.Settings
	CrawlComplete  bool
	Repositories   int
	Tags           int
	Summary        Summary
	Error          string
}

const runColumns = `id, kind, coalesce(crawl_run_id, id), organization_id, workflow_id,
	workflow_run_id, status, evaluated_at, started_at, finished_at, tag_regex,
	age_threshold_months, keep_latest, crawl_complete,
	repositories, tags, scan, retain, prune, coalesce(error, '')`

func scanRun(row pgx.Row) (Run, error) {
	var r Run
	err := row.Scan(&r.ID, &r.Kind, &r.CrawlRunID, &r.OrganizationID, &r.WorkflowID,
		&r.WorkflowRunID, &r.Status, &r.EvaluatedAt, &r.StartedAt, &r.FinishedAt, &r.Settings.TagRegex,
		&r.Settings.AgeThresholdMonths, &r.Settings.KeepLatest, &r.CrawlComplete,
		&r.Repositories, &r.Tags, &r.Summary.Scan, &r.Summary.Retain, &r.Summary.Prune, &r.Error)
	if err == pgx.ErrNoRows {
		return r, ErrNotFound
	}
	r.EvaluatedAt = r.EvaluatedAt.UTC()
	return r, err
}

// StartRun records the start of a run for a workflow execution, snapshotting the
// organization's settings. Calling it again for the same execution returns the same run, so a
// retried activity never makes two.
func (s *Store) StartRun(ctx context.Context, orgID int64, workflowID, workflowRunID string,
	evaluatedAt time.Time) (Run, error) {
	r, err := scanRun(s.pool.QueryRow(ctx, `
		INSERT INTO runs (organization_id, workflow_id, workflow_run_id, evaluated_at,
			tag_regex, age_threshold_months, keep_latest)
		SELECT id, $2, $3, $4, tag_regex, age_threshold_months, keep_latest
		FROM organizations WHERE id = $1
		ON CONFLICT (workflow_id, workflow_run_id) DO UPDATE SET workflow_id = runs.workflow_id
		RETURNING `+runColumns, orgID, workflowID, workflowRunID, evaluatedAt.UTC()))
	if err != nil {
		return r, fmt.Errorf("start run of organization %d: %w", orgID, err)
	}
	return r, nil
}

// StartReevaluation records a run that evaluates the organization's latest complete crawl
// with its current settings, without crawling. Calling it again for the same workflow
// execution returns the same run; ErrNotFound means there is no complete crawl yet.
func (s *Store) StartReevaluation(ctx context.Context, orgID int64, workflowID,
	workflowRunID string, evaluatedAt time.Time) (Run, error) {
	r, err := scanRun(s.pool.QueryRow(ctx, `
		INSERT INTO runs (organization_id, workflow_id, workflow_run_id, evaluated_at,
			tag_regex, age_threshold_months, keep_latest, kind, crawl_run_id, crawl_complete,
			repositories, tags)
		SELECT o.id, $2, $3, $4, o.tag_regex, o.age_threshold_months, o.keep_latest,
			'reevaluate', c.id, true, c.repositories, c.tags
		FROM organizations o JOIN LATERAL (SELECT id, repositories, tags FROM runs
			WHERE organization_id = o.id AND crawl_complete AND kind = 'sync'
			ORDER BY id DESC LIMIT 1) c ON true
		WHERE o.id = $1
		ON CONFLICT (workflow_id, workflow_run_id) DO UPDATE SET workflow_id = runs.workflow_id
		RETURNING `+runColumns, orgID, workflowID, workflowRunID, evaluatedAt.UTC()))
	if err != nil {
		return r, fmt.Errorf("start re-evaluation of organization %d: %w", orgID, err)
	}
	return r, nil
}

// Run returns the run with the given ID.
func (s *Store) Run(ctx context.Context, id int64) (Run, error) {
	r, err := scanRun(s.pool.QueryRow(ctx, `SELECT `+runColumns+` FROM runs WHERE id = $1`, id))
	if err != nil {
		return r, fmt.Errorf("run %d: %w", id, err)
	}
	return r, nil
}

// LatestRun returns the organization's newest run in the given status.
func (s *Store) LatestRun(ctx context.Context, orgID int64, status string) (Run, error) {
	r, err := scanRun(s.pool.QueryRow(ctx, `SELECT `+runColumns+` FROM runs
		WHERE organization_id = $1 AND status = $2 ORDER BY id DESC LIMIT 1`, orgID, status))
	if err != nil {
		return r, fmt.Errorf("latest %s run of organization %d: %w", status, orgID, err)
	}
	return r, nil
}

// LatestAnyRun returns the organization's newest run, whatever its status.
func (s *Store) LatestAnyRun(ctx context.Context, orgID int64) (Run, error) {
	r, err := scanRun(s.pool.QueryRow(ctx, `SELECT `+runColumns+` FROM runs
		WHERE organization_id = $1 ORDER BY id DESC LIMIT 1`, orgID))
	if err != nil {
		return r, fmt.Errorf("latest run of organization %d: %w", orgID, err)
	}
	return r, nil
}

// LatestCrawl returns the organization's newest run whose crawl completed, which is what
// previews evaluate.
func (s *Store) LatestCrawl(ctx context.Context, orgID int64) (Run, error) {
	r, err := scanRun(s.pool.QueryRow(ctx, `SELECT `+runColumns+` FROM runs
		WHERE organization_id = $1 AND crawl_complete AND kind = 'sync'
		ORDER BY id DESC LIMIT 1`, orgID))
	if err != nil {
		return r, fmt.Errorf("latest crawl of organization %d: %w", orgID, err)
	}
	return r, nil
}

// CompleteCrawl marks the run's crawl complete and counts what it listed. Only a complete
// crawl is evaluated and pruned.
func (s *Store) CompleteCrawl(ctx context.Context, runID int64) (Run, error) {
	r, err := scanRun(s.pool.QueryRow(ctx, `
		UPDATE runs SET crawl_complete = true,
			repositories = (SELECT count(*) FROM repositories WHERE last_seen_run_id = $1),
			tags = (SELECT count(*) FROM tags WHERE last_seen_run_id = $1)
		WHERE id = $1 RETURNING `+runColumns, runID))
	if err != nil {
		return r, fmt.Errorf("complete crawl of run %d: %w", runID, err)
	}
	return r, nil
}

// FinishRun marks a run completed with its decision counts.
func (s *Store) FinishRun(ctx context.Context, runID int64, sum Summary) error {
	_, err := s.pool.Exec(ctx, `UPDATE runs SET status = 'completed', finished_at = now(),
		scan = $2, retain = $3, prune = $4 WHERE id = $1`, runID, sum.Scan, sum.Retain, sum.Prune)
	if err != nil {
		return fmt.Errorf("finish run %d: %w", runID, err)
	}
	return nil
}

// FailRun marks a run failed with the error a person reads. A completed run (its decisions
// are applied) stays completed, but keeps the error of the step after it that failed, such as
// vulnerability ingestion.
func (s *Store) FailRun(ctx context.Context, runID int64, message string) error {
	_, err := s.pool.Exec(ctx, `UPDATE runs SET error = $2,
		status = CASE WHEN status = 'running' THEN 'failed' ELSE status END,
		finished_at = coalesce(finished_at, now()) WHERE id = $1`, runID, message)
	if err != nil {
		return fmt.Errorf("fail run %d: %w", runID, err)
	}
	return nil
}
