package store

import (
	"context"
	"fmt"
	"iter"
	"time"

	"github.com/jackc/pgx/v5"

	"quaykeeper/internal/policy"
)

// StoredTag is a tag of the crawl's record with the repository it belongs to.
type StoredTag struct {
	ID         int64
	Repository string
	policy.Tag
	Size           *int64
	IsManifestList bool
}

// RunTags yields the tags a crawl listed, one repository at a time (in repository then tag
// name order), so a caller holds at most one repository in memory.
func (s *Store) RunTags(ctx context.Context, crawlRunID int64) iter.Seq2[[]StoredTag, error] {
	return s.repositoryGroups(ctx, `t.last_seen_run_id = $1`, crawlRunID)
}

// CrawledTags yields the organization's stored crawl one repository at a time: every tag
// listed by its latest complete crawl or since.
func (s *Store) CrawledTags(ctx context.Context, orgID int64) iter.Seq2[[]StoredTag, error] {
	return s.repositoryGroups(ctx, `r.organization_id = $1 AND t.last_seen_run_id >= (
		SELECT max(id) FROM runs WHERE organization_id = $1 AND crawl_complete
			AND kind = 'sync')`, orgID)
}

func (s *Store) repositoryGroups(ctx context.Context, where string, arg int64) iter.Seq2[
	[]StoredTag, error] {
	return func(yield func([]StoredTag, error) bool) {
		rows, err := s.pool.Query(ctx, `
			SELECT t.id, r.name, t.name, t.manifest_digest, t.start_ts, t.end_ts, t.size,
				t.is_manifest_list
			FROM tags t JOIN repositories r ON r.id = t.repository_id
			WHERE `+where+` ORDER BY r.name, t.name`, arg)
		if err != nil {
			yield(nil, fmt.Errorf("read stored tags: %w", err))
			return
		}
		defer rows.Close()
		var group []StoredTag
		for rows.Next() {
			var t StoredTag
			if err := rows.Scan(&t.ID, &t.Repository, &t.Name, &t.Digest, &t.Created, &t.End,
				&t.Size, &t.IsManifestList); err != nil {
				yield(nil, fmt.Errorf("read stored tag: %w", err))
				return
			}
			t.Created = t.Created.UTC()
			if len(group) > 0 && group[0].Repository != t.Repository {
				if !yield(group, nil) {
					return
				}
				group = nil
			}
			group = append(group, t)
		}
		if err := rows.Err(); err != nil {
			yield(nil, fmt.Errorf("read stored tags: %w", err))
			return
		}
		if len(group) > 0 {
			yield(group, nil)
		}
	}
}

// RemovedTags returns the organization's tags that are in the managed inventory (their
// current decision is scan or retain) but that the complete crawl did not list.
func (s *Store) RemovedTags(ctx context.Context, orgID, crawlRunID int64) ([]StoredTag,
	error) {
	rows, _ := s.pool.Query(ctx, `
		SELECT t.id, r.name, t.name, t.manifest_digest, t.start_ts
		FROM tags t JOIN repositories r ON r.id = t.repository_id
		WHERE r.organization_id = $1 AND t.last_seen_run_id <> $2
			AND t.decision IN ('scan', 'retain')
		ORDER BY r.name, t.name`, orgID, crawlRunID)
	tags, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (StoredTag, error) {
		var t StoredTag
		err := row.Scan(&t.ID, &t.Repository, &t.Name, &t.Digest, &t.Created)
		t.Created = t.Created.UTC()
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("removed tags of crawl %d: %w", crawlRunID, err)
	}
	return tags, nil
}

// Decision is one tag's decision in one run, with the facts it was made on.
type Decision struct {
	TagID      int64
	Repository string
	Tag        string
	Digest     string
	Created    time.Time
	Kind       policy.Kind
	Reasons    []policy.Reason
}

// ReplaceDecisions stores a run's decisions with COPY, replacing any the run stored before in
// the same transaction, so a retried evaluation never duplicates or loses a row. It returns
// the counts by kind.
func (s *Store) ReplaceDecisions(ctx context.Context, runID int64,
	decisions iter.Seq2[Decision, error]) (Summary, error) {
	var sum Summary
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM decisions WHERE run_id = $1`, runID); err != nil {
			return fmt.Errorf("clear decisions of run %d: %w", runID, err)
		}
		next, stop := iter.Pull2(decisions)
		defer stop()
		src := &decisionSource{runID: runID, next: next, sum: &sum}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"decisions"}, []string{"run_id", "tag_id",
			"repository", "tag", "manifest_digest", "created", "decision", "reasons"}, src)
		if err != nil {
			return fmt.Errorf("copy decisions of run %d: %w", runID, err)
		}
		return nil
	})
	return sum, err
}

// decisionSource feeds COPY from a pull iterator and counts what passes.
type decisionSource struct {
	runID int64
	next  func() (Decision, error, bool)
	cur   Decision
	err   error
	sum   *Summary
}

func (d *decisionSource) Next() bool {
	dec, err, ok := d.next()
	if !ok {
		return false
	}
	if err != nil {
		d.err = err
		return false
	}
	d.cur = dec
	switch dec.Kind {
	case policy.KindScan:
		d.sum.Scan++
	case policy.KindRetain:
		d.sum.Retain++
	case policy.KindPrune:
		d.sum.Prune++
	}
	return true
}

func (d *decisionSource) Values() ([]any, error) {
	reasons := make([]string, len(d.cur.Reasons))
	for i, r := range d.cur.Reasons {
		reasons[i] = string(r)
	}
	return []any{d.runID, d.cur.TagID, d.cur.Repository, d.cur.Tag, d.cur.Digest,
		d.cur.Created, string(d.cur.Kind), reasons}, nil
}

func (d *decisionSource) Err() error { return d.err }

// Decisions returns a run's decisions sorted by repository then tag.
func (s *Store) Decisions(ctx context.Context, runID int64) ([]Decision, error) {
	rows, _ := s.pool.Query(ctx, `SELECT tag_id, repository, tag, manifest_digest, created,
		decision, reasons FROM decisions WHERE run_id = $1 ORDER BY repository, tag`, runID)
	decs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Decision, error) {
		var d Decision
		var reasons []string
		err := row.Scan(&d.TagID, &d.Repository, &d.Tag, &d.Digest, &d.Created, &d.Kind,
			&reasons)
		d.Created = d.Created.UTC()
		for _, r := range reasons {
			d.Reasons = append(d.Reasons, policy.Reason(r))
		}
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("decisions of run %d: %w", runID, err)
	}
	return decs, nil
}

// ApplyDecisions makes a run's scan and retain decisions the tags' current fate in the
// managed inventory. Applying them twice changes nothing.
func (s *Store) ApplyDecisions(ctx context.Context, runID int64) (int, error) {
	return s.applyDecisions(ctx, runID, `d.decision <> 'prune'`)
}

// Prune takes a run's pruned tags out of the managed inventory. It refuses a run whose crawl
// is not complete, so a failed or partial listing never removes anything.
func (s *Store) Prune(ctx context.Context, runID int64) (int, error) {
	run, err := s.Run(ctx, runID)
	if err != nil {
		return 0, err
	}
	if !run.CrawlComplete {
		return 0, fmt.Errorf("prune run %d: its crawl is not complete; nothing was pruned", runID)
	}
	return s.applyDecisions(ctx, runID, `d.decision = 'prune'`)
}

func (s *Store) applyDecisions(ctx context.Context, runID int64, which string) (int, error) {
	tag, err := s.pool.Exec(ctx, `
		UPDATE tags t SET decision = d.decision, reasons = d.reasons, decided_run_id = d.run_id
		FROM decisions d
		WHERE d.run_id = $1 AND d.tag_id = t.id AND `+which+`
			AND t.decided_run_id IS DISTINCT FROM d.run_id`, runID)
	if err != nil {
		return 0, fmt.Errorf("apply decisions of run %d: %w", runID, err)
	}
	return int(tag.RowsAffected()), nil
}

// DecisionSummary counts a run's stored decisions by kind.
func (s *Store) DecisionSummary(ctx context.Context, runID int64) (Summary, error) {
	var sum Summary
	err := s.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE decision = 'scan'),
		count(*) FILTER (WHERE decision = 'retain'), count(*) FILTER (WHERE decision = 'prune')
		FROM decisions WHERE run_id = $1`, runID).Scan(&sum.Scan, &sum.Retain, &sum.Prune)
	if err != nil {
		return sum, fmt.Errorf("count decisions of run %d: %w", runID, err)
	}
	return sum, nil
}
