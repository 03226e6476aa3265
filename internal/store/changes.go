package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"quaykeeper/internal/policy"
)

// Change is how a run's decision about a tag differs from the previous completed run's.
type Change string

// The changes a run can bring.
const (
	// ChangeNew: the previous run made no decision about the tag.
	ChangeNew Change = "new"
	// ChangePruned: the previous run kept the tag (scan or retain) and this run prunes it.
	ChangePruned Change = "pruned"
	// ChangeDecision: any other change of decision kind.
	ChangeDecision Change = "changed"
)

// RunChange is one tag whose decision a run changed.
type RunChange struct {
	Change                  Change
	Repository, Tag, Digest string
	// Before is empty for a new tag.
	Before, After policy.Kind
	Reasons       []policy.Reason
}

// ChangeCounts counts a run's changes by kind.
type ChangeCounts struct{ New, Pruned, Changed int }

// changesFrom joins a run's decisions ($1) to the previous run's ($2) and keeps the changes.
const changesFrom = `
	FROM (SELECT c.repository, c.tag, c.manifest_digest, coalesce(p.decision, '') AS before,
		c.decision AS after, c.reasons,
		CASE WHEN p.tag_id IS NULL THEN 'new' WHEN c.decision = 'prune' THEN 'pruned'
			ELSE 'changed' END AS change
	FROM decisions c LEFT JOIN decisions p ON p.run_id = $2 AND p.tag_id = c.tag_id
	WHERE c.run_id = $1 AND (p.tag_id IS NULL OR p.decision <> c.decision)) ch`

// RunChangeCounts counts how the run's decisions differ from the previous run's.
func (s *Store) RunChangeCounts(ctx context.Context, runID, previousID int64) (ChangeCounts,
	error) {
	var c ChangeCounts
	err := s.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE change = 'new'),
		count(*) FILTER (WHERE change = 'pruned'), count(*) FILTER (WHERE change = 'changed')`+
		changesFrom, runID, previousID).Scan(&c.New, &c.Pruned, &c.Changed)
	if err != nil {
		return c, fmt.Errorf("count changes of run %d: %w", runID, err)
	}
	return c, nil
}

// RunChanges returns the limit changes of the run against the previous run that follow the
// first offset, by repository then tag; change, when set, keeps the changes of that kind.
func (s *Store) RunChanges(ctx context.Context, runID, previousID int64, change Change,
	offset, limit int) ([]RunChange, error) {
	rows, _ := s.pool.Query(ctx, `SELECT change, repository, tag, manifest_digest, before,
		after, reasons`+changesFrom+`
		WHERE $3 = '' OR change = $3 ORDER BY repository, tag OFFSET $4 LIMIT $5`,
		runID, previousID, string(change), offset, limit)
	changes, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (RunChange, error) {
		var c RunChange
		var reasons []string
		err := row.Scan(&c.Change, &c.Repository, &c.Tag, &c.Digest, &c.Before, &c.After,
			&reasons)
		c.Reasons = toReasons(reasons)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("changes of run %d: %w", runID, err)
	}
	return changes, nil
}
