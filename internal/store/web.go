package store

import (
	"context"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"quaykeeper/internal/policy"
)

// The queries below serve the read-only web screen. Filtering, sorting and paging happen in
// SQL so that a page costs the same with a hundred rows or a hundred thousand.

// OrganizationOverview is an organization with its newest run and its newest completed run.
type OrganizationOverview struct {
	Organization
	// LatestRun is the newest run in any status; nil when the organization was never synced.
	LatestRun *Run
	// LatestCompleted is the newest completed run; nil when no run completed yet.
	LatestCompleted *Run
}

// OrganizationOverviews lists every organization, by host and name, with its latest runs.
func (s *Store) OrganizationOverviews(ctx context.Context) ([]OrganizationOverview, error) {
	orgs, err := s.Organizations(ctx)
	if err != nil {
		return nil, err
	}
	rows, _ := s.pool.Query(ctx, latestRunsQuery)
	runs, err := collectRuns(rows)
	if err != nil {
		return nil, fmt.Errorf("latest runs: %w", err)
	}
	out := make([]OrganizationOverview, len(orgs))
	byID := make(map[int64]*OrganizationOverview, len(orgs))
	for i, o := range orgs {
		out[i] = OrganizationOverview{Organization: o}
		byID[o.ID] = &out[i]
	}
	for _, r := range runs {
		o, ok := byID[r.OrganizationID]
		if !ok {
			continue
		}
		if r.Status == RunCompleted {
			o.LatestCompleted = &r
		}
		if o.LatestRun == nil || r.ID > o.LatestRun.ID {
			o.LatestRun = &r
		}
	}
	return out, nil
}

// latestRunsQuery finds each organization's newest run and its newest completed run through
// the runs_organization_idx index, so the cost does not grow with the history.
const latestRunsQuery = `
	SELECT l.* FROM organizations o CROSS JOIN LATERAL (SELECT ` + runColumns + ` FROM runs
		WHERE organization_id = o.id ORDER BY id DESC LIMIT 1) l
	UNION ALL
	SELECT l.* FROM organizations o CROSS JOIN LATERAL (SELECT ` + runColumns + ` FROM runs
		WHERE organization_id = o.id AND status = 'completed' ORDER BY id DESC LIMIT 1) l`

// RecentRuns returns the organization's newest runs, newest first, at most limit of them.
func (s *Store) RecentRuns(ctx context.Context, orgID int64, limit int) ([]Run, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+runColumns+` FROM runs
		WHERE organization_id = $1 ORDER BY id DESC LIMIT $2`, orgID, limit)
	runs, err := collectRuns(rows)
	if err != nil {
		return nil, fmt.Errorf("recent runs of organization %d: %w", orgID, err)
	}
	return runs, nil
}

func collectRuns(rows pgx.Rows) ([]Run, error) {
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Run, error) { return scanRun(row) })
}

// PreviousCompletedRun returns the organization's newest completed run before the given one,
// the run a run's changes are measured against.
func (s *Store) PreviousCompletedRun(ctx context.Context, run Run) (Run, error) {
	r, err := scanRun(s.pool.QueryRow(ctx, `SELECT `+runColumns+` FROM runs
		WHERE organization_id = $1 AND status = 'completed' AND id < $2
		ORDER BY id DESC LIMIT 1`, run.OrganizationID, run.ID))
	if err != nil {
		return r, fmt.Errorf("run before %d: %w", run.ID, err)
	}
	return r, nil
}

// RetentionSort is a column the retention rows can be sorted by.
type RetentionSort string

// The columns the retention rows can be sorted by.
const (
	SortRepository RetentionSort = "repository"
	SortTag        RetentionSort = "tag"
	SortCreated    RetentionSort = "created"
	SortDecision   RetentionSort = "decision"
)

// retentionOrder is the whitelist of ORDER BY lists, %[1]s being the direction. Repository
// and tag are unique within a run, so each order is total and pages never overlap.
var retentionOrder = map[RetentionSort]string{
	SortRepository: `repository %[1]s, tag %[1]s`,
	SortTag:        `tag %[1]s, repository %[1]s`,
	SortCreated:    `created %[1]s, repository, tag`,
	SortDecision:   `decision %[1]s, repository, tag`,
}

// RetentionQuery selects and orders the not-scanned decisions of one run: every tag the run
// retained or pruned.
type RetentionQuery struct {
	RunID int64
	// Kind is retain or prune; empty means both. Scan decisions are never selected.
	Kind policy.Kind
	// Reason, when set, keeps the decisions that carry it.
	Reason policy.Reason
	// Repository, when set, keeps the decisions of the repository of exactly that name.
	Repository string
	// TagText, when set, keeps the tags whose name contains it, ignoring case.
	TagText string
	// Sort is the column to sort by; empty means repository.
	Sort RetentionSort
	Desc bool
}

// sql returns the query's WHERE and ORDER BY clauses and their arguments. Every value is a
// bound parameter; only the whitelisted order is written into the text.
func (q RetentionQuery) sql() (where, order string, args []any, err error) {
	sort := q.Sort
	if sort == "" {
		sort = SortRepository
	}
	pattern, ok := retentionOrder[sort]
	if !ok {
		return "", "", nil, fmt.Errorf("unknown sort column %q", q.Sort)
	}
	dir := "ASC"
	if q.Desc {
		dir = "DESC"
	}
	args = []any{q.RunID}
	conds := []string{`run_id = $1`, `decision <> 'scan'`}
	add := func(cond string, arg any) {
		args = append(args, arg)
		conds = append(conds, fmt.Sprintf(cond, len(args)))
	}
	if q.Kind != "" {
		add(`decision = $%d`, string(q.Kind))
	}
	if q.Reason != "" {
		add(`$%d = ANY(reasons)`, string(q.Reason))
	}
	if q.Repository != "" {
		add(`repository = $%d`, q.Repository)
	}
	if q.TagText != "" {
		add(`strpos(lower(tag), lower($%d)) > 0`, q.TagText)
	}
	return strings.Join(conds, " AND "), fmt.Sprintf(pattern, dir), args, nil
}

const decisionColumns = `tag_id, repository, tag, manifest_digest, created, decision, reasons`

func scanDecision(row pgx.Row) (Decision, error) {
	var d Decision
	var reasons []string
	err := row.Scan(&d.TagID, &d.Repository, &d.Tag, &d.Digest, &d.Created, &d.Kind, &reasons)
	d.Created = d.Created.UTC()
	d.Reasons = toReasons(reasons)
	return d, err
}

func toReasons(codes []string) []policy.Reason {
	reasons := make([]policy.Reason, len(codes))
	for i, c := range codes {
		reasons[i] = policy.Reason(c)
	}
	return reasons
}

// RetentionPage returns the limit rows of the query that follow the first offset, and how
// many rows the query selects in all.
func (s *Store) RetentionPage(ctx context.Context, q RetentionQuery, offset, limit int) (
	[]Decision, int, error) {
	where, order, args, err := q.sql()
	if err != nil {
		return nil, 0, err
	}
	var total int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM decisions WHERE `+where,
		args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count retention rows of run %d: %w", q.RunID, err)
	}
	n := len(args)
	rows, _ := s.pool.Query(ctx, fmt.Sprintf(`SELECT %s FROM decisions WHERE %s ORDER BY %s
		OFFSET $%d LIMIT $%d`, decisionColumns, where, order, n+1, n+2),
		append(args, offset, limit)...)
	decs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Decision, error) {
		return scanDecision(row)
	})
	if err != nil {
		return nil, 0, fmt.Errorf("retention rows of run %d: %w", q.RunID, err)
	}
	return decs, total, nil
}

// RetentionRows yields every row of the query in order as PostgreSQL sends it, so a download
// of any size holds one row in memory at a time.
func (s *Store) RetentionRows(ctx context.Context, q RetentionQuery) iter.Seq2[Decision, error] {
	return func(yield func(Decision, error) bool) {
		where, order, args, err := q.sql()
		if err != nil {
			yield(Decision{}, err)
			return
		}
		fail := func(err error) {
			yield(Decision{}, fmt.Errorf("retention rows of run %d: %w", q.RunID, err))
		}
		rows, err := s.pool.Query(ctx, `SELECT `+decisionColumns+` FROM decisions WHERE `+
			where+` ORDER BY `+order, args...)
		if err != nil {
			fail(err)
			return
		}
		defer rows.Close()
		for rows.Next() {
			d, err := scanDecision(rows)
			if err != nil {
				fail(err)
				return
			}
			if !yield(d, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			fail(err)
		}
	}
}

// RepositoryNames returns the names of the organization's known repositories, sorted, at most
// limit of them: the choices a repository filter offers.
func (s *Store) RepositoryNames(ctx context.Context, orgID int64, limit int) ([]string, error) {
	rows, _ := s.pool.Query(ctx, `SELECT name FROM repositories WHERE organization_id = $1
		ORDER BY name LIMIT $2`, orgID, limit)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("repositories of organization %d: %w", orgID, err)
	}
	return names, nil
}

// ImageTag is a tag of the crawl's record that points at an image, or a cosign accessory of
// the image, with the tag's current decision.
type ImageTag struct {
	Name           string
	Start          time.Time
	End            *time.Time
	Size           *int64
	IsManifestList bool
	// Accessory is set for a signature, attestation or SBOM tag whose subject is the image.
	Accessory bool
	// Kind is empty when no completed run decided the tag yet.
	Kind    policy.Kind
	Reasons []policy.Reason
	// DecidedRunID is the run that made the current decision, 0 when none did, and Settings
	// are that run's.
	DecidedRunID int64
	Settings     policy.Settings
}

// ImageTags returns the tags of a repository of the organization that point at the digest,
// followed by the image's accessories, each group by name. It returns ErrNotFound when there
// is none.
func (s *Store) ImageTags(ctx context.Context, orgID int64, repository, digest string) (
	[]ImageTag, error) {
	rows, _ := s.pool.Query(ctx, `
		SELECT t.name, t.start_ts, t.end_ts, t.size, t.is_manifest_list, t.name = ANY($4),
			coalesce(t.decision, ''), coalesce(t.reasons, '{}'), coalesce(d.id, 0),
			coalesce(d.tag_regex, ''), coalesce(d.age_threshold_months, 0),
			coalesce(d.keep_latest, 0)
		FROM tags t JOIN repositories r ON r.id = t.repository_id
			LEFT JOIN runs d ON d.id = t.decided_run_id
		WHERE r.organization_id = $1 AND r.name = $2
			AND (t.manifest_digest = $3 OR t.name = ANY($4))
		ORDER BY t.name = ANY($4), t.name`, orgID, repository, digest, accessoryNames(digest))
	tags, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ImageTag, error) {
		var t ImageTag
		var reasons []string
		err := row.Scan(&t.Name, &t.Start, &t.End, &t.Size, &t.IsManifestList, &t.Accessory,
			&t.Kind, &reasons, &t.DecidedRunID, &t.Settings.TagRegex,
			&t.Settings.AgeThresholdMonths, &t.Settings.KeepLatest)
		t.Start = t.Start.UTC()
		t.Reasons = toReasons(reasons)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("tags of image %s in %s: %w", digest, repository, err)
	}
	if len(tags) == 0 {
		return nil, fmt.Errorf("image %s in %s: %w", digest, repository, ErrNotFound)
	}
	return tags, nil
}

// accessoryNames are the tag names cosign gives an image's signature, attestation and SBOM.
func accessoryNames(digest string) []string {
	hex, ok := strings.CutPrefix(digest, "sha256:")
	if !ok {
		return []string{}
	}
	base := "sha256-" + hex
	return []string{base + ".sig", base + ".att", base + ".sbom"}
}

// ImageDecision is one run's decision about one tag of an image or of its accessories.
type ImageDecision struct {
	RunID       int64
	RunStatus   string
	EvaluatedAt time.Time
	// Settings are the run's, which the decision was made with.
	Settings policy.Settings
	Tag      string
	Kind     policy.Kind
	Reasons  []policy.Reason
}

// ImageHistory returns the decisions every run made about the image's tags and accessories,
// newest run first, then by tag, at most limit of them. It finds them through the
// repository's tags, so it reads one repository's decisions, not the organization's.
func (s *Store) ImageHistory(ctx context.Context, orgID int64, repository, digest string,
	limit int) ([]ImageDecision, error) {
	rows, _ := s.pool.Query(ctx, `
		SELECT d.run_id, r.status, r.evaluated_at, r.tag_regex, r.age_threshold_months,
			r.keep_latest, d.tag, d.decision, d.reasons
		FROM decisions d JOIN runs r ON r.id = d.run_id
		WHERE d.tag_id IN (SELECT t.id FROM tags t
				JOIN repositories rp ON rp.id = t.repository_id
				WHERE rp.organization_id = $1 AND rp.name = $2)
			AND (d.manifest_digest = $3 OR d.tag = ANY($4))
		ORDER BY d.run_id DESC, d.tag LIMIT $5`,
		orgID, repository, digest, accessoryNames(digest), limit)
	history, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ImageDecision, error) {
		var d ImageDecision
		var reasons []string
		err := row.Scan(&d.RunID, &d.RunStatus, &d.EvaluatedAt, &d.Settings.TagRegex,
			&d.Settings.AgeThresholdMonths, &d.Settings.KeepLatest, &d.Tag, &d.Kind, &reasons)
		d.EvaluatedAt = d.EvaluatedAt.UTC()
		d.Reasons = toReasons(reasons)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("history of image %s in %s: %w", digest, repository, err)
	}
	return history, nil
}
