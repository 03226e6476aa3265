package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// RepositoryRecord is a repository as a crawl listed it.
type RepositoryRecord struct {
	Name         string
	IsPublic     bool
	LastModified *time.Time
}

// SaveRepositories records repositories listed by a run, in one batch. Saving the same page
// again (a retried activity) changes nothing.
func (s *Store) SaveRepositories(ctx context.Context, orgID, runID int64,
	repos []RepositoryRecord) error {
	batch := &pgx.Batch{}
	for _, r := range repos {
		batch.Queue(`
			INSERT INTO repositories (organization_id, name, is_public, last_modified,
				last_seen_run_id)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (organization_id, name) DO UPDATE SET is_public = excluded.is_public,
				last_modified = excluded.last_modified,
				last_seen_run_id = excluded.last_seen_run_id`,
			orgID, r.Name, r.IsPublic, r.LastModified, runID)
	}
	if err := s.pool.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("save %d repositories: %w", len(repos), err)
	}
	return nil
}

// KnownRepositories counts the organization's repositories that earlier runs listed.
func (s *Store) KnownRepositories(ctx context.Context, orgID, runID int64) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM repositories
		WHERE organization_id = $1 AND last_seen_run_id IS NOT NULL
		AND last_seen_run_id <> $2`, orgID, runID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count known repositories: %w", err)
	}
	return n, nil
}

// CountRunRepositories counts the repositories a run listed.
func (s *Store) CountRunRepositories(ctx context.Context, runID int64) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM repositories WHERE last_seen_run_id = $1`,
		runID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count repositories of run %d: %w", runID, err)
	}
	return n, nil
}

// RepositoryRef names a stored repository.
type RepositoryRef struct {
	ID   int64
	Name string
}

// RunRepositories returns a slice of the repositories a run listed, in a stable order, so
// that the crawl can be split into batches by offset.
func (s *Store) RunRepositories(ctx context.Context, runID int64, offset, limit int) (
	[]RepositoryRef, error) {
	rows, _ := s.pool.Query(ctx, `SELECT id, name FROM repositories
		WHERE last_seen_run_id = $1 ORDER BY id OFFSET $2 LIMIT $3`, runID, offset, limit)
	refs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[RepositoryRef])
	if err != nil {
		return nil, fmt.Errorf("repositories of run %d: %w", runID, err)
	}
	return refs, nil
}

// TagRecord is a tag as a crawl listed it.
type TagRecord struct {
	Name           string
	Digest         string
	Start          time.Time
	End            *time.Time
	Size           *int64
	IsManifestList bool
}

// SaveTags records one page of a repository's tags for a run, in one batch. When a run sees
// a name twice (offset paging shifts rows under concurrent pushes), the row with the newer
// start time wins; saving the same page again changes nothing.
func (s *Store) SaveTags(ctx context.Context, repoID, runID int64, tags []TagRecord) error {
	batch := &pgx.Batch{}
	for _, t := range tags {
		batch.Queue(`
			INSERT INTO tags (repository_id, name, manifest_digest, start_ts, end_ts, size,
				is_manifest_list, last_seen_run_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (repository_id, name) DO UPDATE SET
				manifest_digest = excluded.manifest_digest, start_ts = excluded.start_ts,
				end_ts = excluded.end_ts, size = excluded.size,
				is_manifest_list = excluded.is_manifest_list,
				last_seen_run_id = excluded.last_seen_run_id
			WHERE tags.last_seen_run_id <> excluded.last_seen_run_id
				OR excluded.start_ts >= tags.start_ts`,
			repoID, t.Name, t.Digest, t.Start.UTC(), t.End, t.Size, t.IsManifestList, runID)
	}
	if err := s.pool.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("save %d tags: %w", len(tags), err)
	}
	return nil
}

// UnseenTags lists the repository's tags that the record holds as active at instant at but
// that the run has not listed: candidates for removal, to be confirmed with Quay.
func (s *Store) UnseenTags(ctx context.Context, repoID, runID int64, at time.Time) (
	[]string, error) {
	rows, _ := s.pool.Query(ctx, `SELECT name FROM tags
		WHERE repository_id = $1 AND last_seen_run_id <> $2
		AND (end_ts IS NULL OR end_ts > $3) ORDER BY name`, repoID, runID, at)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("unseen tags of repository %d: %w", repoID, err)
	}
	return names, nil
}

// MarkTagsGone records that Quay confirmed the tags are no longer active, ending them at the
// instant at. It changes only the crawl's record; the inventory changes when a complete crawl
// is evaluated.
func (s *Store) MarkTagsGone(ctx context.Context, repoID int64, names []string,
	at time.Time) error {
	_, err := s.pool.Exec(ctx, `UPDATE tags SET end_ts = $3
		WHERE repository_id = $1 AND name = ANY($2) AND (end_ts IS NULL OR end_ts > $3)`,
		repoID, names, at)
	if err != nil {
		return fmt.Errorf("mark %d tags gone: %w", len(names), err)
	}
	return nil
}
