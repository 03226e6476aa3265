package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"quaykeeper/internal/vuln"
)

// ScanTarget is an image whose security report a run ingests: a digest of the run's scan
// decisions within a repository.
type ScanTarget struct {
	RepositoryID   int64
	Repository     string
	Digest         string
	IsManifestList bool
}

// ScanTargets returns the distinct images of a run's scan decisions, by repository then
// digest, so that a digest under ten tags is fetched once.
func (s *Store) ScanTargets(ctx context.Context, runID int64) ([]ScanTarget, error) {
	rows, _ := s.pool.Query(ctx, `
		SELECT t.repository_id, d.repository, d.manifest_digest, bool_or(t.is_manifest_list)
		FROM decisions d JOIN tags t ON t.id = d.tag_id
		WHERE d.run_id = $1 AND d.decision = 'scan'
		GROUP BY t.repository_id, d.repository, d.manifest_digest
		ORDER BY d.repository, d.manifest_digest`, runID)
	targets, err := pgx.CollectRows(rows, pgx.RowToStructByPos[ScanTarget])
	if err != nil {
		return nil, fmt.Errorf("scan targets of run %d: %w", runID, err)
	}
	return targets, nil
}

// ImageScan is what one run learnt of one image's security: one result per scanned
// manifest, or a single result for the image itself when its manifest list could not be
// read.
type ImageScan struct {
	RepositoryID int64
	Digest       string
	RunID        int64
	At           time.Time
	Manifests    []ManifestResult
}

// ManifestResult is the scan of one manifest of an image.
type ManifestResult struct {
	Manifest string
	// Platform is "" unless Manifest is a platform manifest of a list.
	Platform string
	Scan     vuln.Scan
}

// SaveImageScan records an image's scans in one transaction, replacing the packages and
// findings of each manifest and dropping manifests the image no longer has. A transient
// result (vuln.Transient) for a manifest that has a report keeps that report and records
// only the failed check, as does a transient failure to read the image's manifest list.
func (s *Store) SaveImageScan(ctx context.Context, img ImageScan) error {
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `SELECT manifest_digest, status FROM vuln_scans
			WHERE repository_id = $1 AND tag_digest = $2 FOR UPDATE`, img.RepositoryID,
			img.Digest)
		held := map[string]string{}
		var manifest, status string
		_, err := pgx.ForEachRow(rows, []any{&manifest, &status}, func() error {
			held[manifest] = status
			return nil
		})
		if err != nil {
			return err
		}
		// Every statement goes in one batch: one round trip whatever the image holds.
		batch := &pgx.Batch{}
		if m := img.Manifests; len(m) == 1 && m[0].Manifest == img.Digest &&
			vuln.Transient(m[0].Scan.Status) && len(held) > 0 && held[img.Digest] == "" {
			img.markChecked(batch, "", m[0].Scan.Reason)
			return tx.SendBatch(ctx, batch).Close()
		}
		keep := make([]string, 0, len(img.Manifests))
		for _, m := range img.Manifests {
			keep = append(keep, m.Manifest)
			if vuln.Transient(m.Scan.Status) && held[m.Manifest] == vuln.StatusScanned {
				img.markChecked(batch, m.Manifest, m.Scan.Reason)
			} else {
				img.replace(batch, m)
			}
		}
		batch.Queue(`DELETE FROM vuln_scans WHERE repository_id = $1 AND tag_digest = $2
			AND NOT manifest_digest = ANY($3)`, img.RepositoryID, img.Digest, keep)
		return tx.SendBatch(ctx, batch).Close()
	})
	if err != nil {
		return fmt.Errorf("save scans of %s: %w", img.Digest, err)
	}
	return nil
}

// markChecked queues the record of a failed check on the image's held scans, one
// manifest's or ("") every manifest's, leaving their reports as they are.
func (img ImageScan) markChecked(b *pgx.Batch, manifest, why string) {
	b.Queue(`UPDATE vuln_scans SET checked_run_id = $3, checked_at = $4, check_error = $5
		WHERE repository_id = $1 AND tag_digest = $2 AND ($6 = '' OR manifest_digest = $6)`,
		img.RepositoryID, img.Digest, img.RunID, img.At, why, manifest)
}

// replace queues one statement that stores a manifest's scan and swaps its packages and
// findings. The sub-statements share a snapshot, so the deletes see only the old rows.
func (img ImageScan) replace(b *pgx.Batch, m ManifestResult) {
	pkgs, fs := m.Scan.Packages, m.Scan.Findings
	var p [3][]string
	for _, pkg := range pkgs {
		p[0], p[1], p[2] = append(p[0], pkg.Name), append(p[1], pkg.Version),
			append(p[2], pkg.AddedBy)
	}
	var f [11][]string
	cvss := make([]*float64, 0, len(fs))
	for _, v := range fs {
		for i, s := range []string{v.Vulnerability, v.Severity.String(), v.RawSeverity,
			v.Package, v.Version, v.AddedBy, v.FixedBy, v.Link, v.CVSSVector, v.Updater,
			v.Description} {
			f[i] = append(f[i], s)
		}
		cvss = append(cvss, v.CVSS)
	}
	b.Queue(`
		WITH scan AS (
			INSERT INTO vuln_scans (repository_id, tag_digest, manifest_digest, platform,
				status, reason, checked_run_id, checked_at, report_run_id, packages, findings)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $7, $9, $10)
			ON CONFLICT (repository_id, tag_digest, manifest_digest) DO UPDATE SET
				platform = excluded.platform, status = excluded.status,
				reason = excluded.reason, check_error = '',
				checked_run_id = excluded.checked_run_id, checked_at = excluded.checked_at,
				report_run_id = excluded.report_run_id, packages = excluded.packages,
				findings = excluded.findings
			RETURNING id),
		old_packages AS (DELETE FROM vuln_packages WHERE scan_id = (SELECT id FROM scan)),
		old_findings AS (DELETE FROM vuln_findings WHERE scan_id = (SELECT id FROM scan)),
		packages AS (INSERT INTO vuln_packages (scan_id, name, version, added_by)
			SELECT scan.id, u.* FROM scan, unnest($11::text[], $12::text[], $13::text[]) u)
		INSERT INTO vuln_findings (scan_id, vulnerability, severity, raw_severity, package,
			version, added_by, fixed_by, link, cvss_vector, updater, description, cvss)
		SELECT scan.id, u.* FROM scan, unnest($14::text[], $15::text[], $16::text[],
			$17::text[], $18::text[], $19::text[], $20::text[], $21::text[], $22::text[],
			$23::text[], $24::text[], $25::float8[]) u`,
		img.RepositoryID, img.Digest, m.Manifest, m.Platform, m.Scan.Status, m.Scan.Reason,
		img.RunID, img.At, len(pkgs), len(fs), p[0], p[1], p[2], f[0], f[1], f[2], f[3], f[4],
		f[5], f[6], f[7], f[8], f[9], f[10], cvss)
}

// DropUnmanagedFindings deletes the organization's scans, with their packages and findings,
// of every digest that no tag of the managed inventory (decision scan or retain) points at
// any more, and returns how many scans went.
func (s *Store) DropUnmanagedFindings(ctx context.Context, orgID int64) (int, error) {
	tag, err := s.pool.Exec(ctx, `
		DELETE FROM vuln_scans s USING repositories r
		WHERE r.id = s.repository_id AND r.organization_id = $1 AND NOT EXISTS (
			SELECT 1 FROM tags t WHERE t.repository_id = s.repository_id
				AND t.manifest_digest = s.tag_digest AND t.decision IN ('scan', 'retain'))`,
		orgID)
	if err != nil {
		return 0, fmt.Errorf("drop findings of organization %d that left the inventory: %w",
			orgID, err)
	}
	return int(tag.RowsAffected()), nil
}

// IngestCounts counts the scans a run checked.
type IngestCounts struct {
	Statuses vuln.StatusCounts
	// Kept counts scans whose check failed transiently and that kept an earlier report.
	Kept     int
	Findings int
}

// RunIngestCounts counts the scans the run checked by status.
func (s *Store) RunIngestCounts(ctx context.Context, runID int64) (IngestCounts, error) {
	var c IngestCounts
	rows, _ := s.pool.Query(ctx, `SELECT status, count(*),
			count(*) FILTER (WHERE check_error <> ''), coalesce(sum(findings), 0)
		FROM vuln_scans WHERE checked_run_id = $1 GROUP BY status`, runID)
	var status string
	var n, kept, findings int
	_, err := pgx.ForEachRow(rows, []any{&status, &n, &kept, &findings}, func() error {
		c.Statuses.Add(status, n)
		c.Kept += kept
		c.Findings += findings
		return nil
	})
	if err != nil {
		return c, fmt.Errorf("count scans of run %d: %w", runID, err)
	}
	return c, nil
}

// ScanCounts counts the organization's stored scans by status.
func (s *Store) ScanCounts(ctx context.Context, orgID int64) (vuln.StatusCounts, error) {
	var c vuln.StatusCounts
	rows, _ := s.pool.Query(ctx, `SELECT s.status, count(*)
		FROM vuln_scans s JOIN repositories r ON r.id = s.repository_id
		WHERE r.organization_id = $1 GROUP BY s.status`, orgID)
	var status string
	var n int
	_, err := pgx.ForEachRow(rows, []any{&status, &n}, func() error {
		c.Add(status, n)
		return nil
	})
	if err != nil {
		return c, fmt.Errorf("count scans of organization %d: %w", orgID, err)
	}
	return c, nil
}

// StoredScan is the stored scan of one manifest of an image.
type StoredScan struct {
	Manifest string
	// Platform is "" unless the image is a manifest list.
	Platform string
	Status   string
	Reason   string
	// CheckError is why the latest check failed transiently while an earlier report stays.
	CheckError string
	CheckedAt  time.Time
	Packages   int
	Findings   int
}

// ManifestScans returns the stored scans of a repository's image, one per manifest, by
// platform then manifest; none when the image was never scanned.
func (s *Store) ManifestScans(ctx context.Context, orgID int64, repository, digest string) (
	[]StoredScan, error) {
	rows, _ := s.pool.Query(ctx, `SELECT s.manifest_digest, s.platform, s.status, s.reason,
			s.check_error, s.checked_at, s.packages, s.findings
		FROM vuln_scans s JOIN repositories r ON r.id = s.repository_id
		WHERE r.organization_id = $1 AND r.name = $2 AND s.tag_digest = $3
		ORDER BY s.platform, s.manifest_digest`, orgID, repository, digest)
	scans, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (StoredScan, error) {
		var sc StoredScan
		err := row.Scan(&sc.Manifest, &sc.Platform, &sc.Status, &sc.Reason, &sc.CheckError,
			&sc.CheckedAt, &sc.Packages, &sc.Findings)
		sc.CheckedAt = sc.CheckedAt.UTC()
		return sc, err
	})
	if err != nil {
		return nil, fmt.Errorf("scans of %s@%s: %w", repository, digest, err)
	}
	return scans, nil
}

// Occurrences returns the findings the filter selects in the organization's inventory
// images, each with the image that carries it.
func (s *Store) Occurrences(ctx context.Context, orgID int64, f vuln.Filter) (
	[]vuln.Occurrence, error) {
	rows, _ := s.pool.Query(ctx, `
		WITH images AS (
			SELECT t.repository_id, r.name, t.manifest_digest,
				array_agg(t.name ORDER BY t.name) AS tags, min(t.start_ts) AS pushed
			FROM tags t JOIN repositories r ON r.id = t.repository_id
			WHERE r.organization_id = $1 AND t.decision IN ('scan', 'retain')
				AND ($2 = '' OR r.name = $2) AND ($5 = '' OR t.manifest_digest = $5)
			GROUP BY t.repository_id, r.name, t.manifest_digest)
		SELECT i.name, i.tags, i.pushed, s.tag_digest, s.manifest_digest, s.platform,
			f.vulnerability, f.severity, f.raw_severity, f.package, f.version, f.added_by,
			f.fixed_by, f.link, f.cvss, f.cvss_vector, f.updater, f.description
		FROM images i
		JOIN vuln_scans s ON s.repository_id = i.repository_id
			AND s.tag_digest = i.manifest_digest
		JOIN vuln_findings f ON f.scan_id = s.id
		WHERE f.severity = ANY($3) AND (NOT $4 OR f.fixed_by <> '')`,
		orgID, f.Repository, vuln.AtLeast(f.MinSeverity), f.Fixable, f.Digest)
	occ, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (vuln.Occurrence, error) {
		var o vuln.Occurrence
		var sev string
		img, fd := &o.Image, &o.Finding
		err := row.Scan(&img.Repository, &img.Tags, &img.Pushed, &img.Digest, &img.Manifest,
			&img.Platform, &fd.Vulnerability, &sev, &fd.RawSeverity, &fd.Package, &fd.Version,
			&fd.AddedBy, &fd.FixedBy, &fd.Link, &fd.CVSS, &fd.CVSSVector, &fd.Updater,
			&fd.Description)
		img.Pushed = img.Pushed.UTC()
		fd.Severity, _ = vuln.ParseSeverity(sev)
		return o, err
	})
	if err != nil {
		return nil, fmt.Errorf("findings of organization %d: %w", orgID, err)
	}
	return occ, nil
}

// ComplianceSettings returns the organization's compliance policies.
func (s *Store) ComplianceSettings(ctx context.Context, orgID int64) (vuln.ComplianceSettings,
	error) {
	var c vuln.ComplianceSettings
	err := s.pool.QueryRow(ctx, `SELECT fixable_severity_threshold, max_image_age_days,
		require_latest_scanned FROM organizations WHERE id = $1`, orgID).Scan(
		&c.FixableSeverityThreshold, &c.MaxImageAgeDays, &c.RequireLatestScanned)
	if errors.Is(err, pgx.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("compliance settings of organization %d: %w", orgID, err)
	}
	return c, nil
}

// SetComplianceSettings validates and stores the organization's compliance policies; an
// invalid setting is returned as Validate's *policy.ValidationError and nothing is stored.
func (s *Store) SetComplianceSettings(ctx context.Context, orgID int64,
	c vuln.ComplianceSettings) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if err := setCompliance(ctx, s.pool, orgID, c); err != nil {
		return fmt.Errorf("set compliance settings of organization %d: %w", orgID, err)
	}
	return nil
}

// execer is what both the pool and a transaction offer for writes.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func setCompliance(ctx context.Context, db execer, orgID int64, c vuln.ComplianceSettings) error {
	tag, err := db.Exec(ctx, `UPDATE organizations SET fixable_severity_threshold = $2,
		max_image_age_days = $3, require_latest_scanned = $4 WHERE id = $1`, orgID,
		c.FixableSeverityThreshold, c.MaxImageAgeDays, c.RequireLatestScanned)
	if err == nil && tag.RowsAffected() == 0 {
		err = ErrNotFound
	}
	return err
}

// ComplianceImages returns the images a run's compliance is evaluated on: the digests of
// its scan decisions, each with every tag of the run that keeps it, whether it is a latest
// image, its earliest push, and its stored scans with their fixable findings.
func (s *Store) ComplianceImages(ctx context.Context, runID int64) ([]vuln.ComplianceImage,
	error) {
	type key struct {
		repoID int64
		digest string
	}
	rows, _ := s.pool.Query(ctx, `
		SELECT t.repository_id, d.repository, d.manifest_digest,
			array_agg(d.tag ORDER BY d.tag), bool_or('latest_image' = ANY(d.reasons)),
			min(d.created)
		FROM decisions d JOIN tags t ON t.id = d.tag_id
		WHERE d.run_id = $1 AND d.decision <> 'prune'
		GROUP BY t.repository_id, d.repository, d.manifest_digest
		HAVING bool_or(d.decision = 'scan')
		ORDER BY d.repository, d.manifest_digest`, runID)
	var images []vuln.ComplianceImage
	index := map[key]int{}
	var k key
	var img vuln.ComplianceImage
	_, err := pgx.ForEachRow(rows, []any{&k.repoID, &img.Repository, &img.Digest, &img.Tags,
		&img.Latest, &img.Pushed}, func() error {
		k.digest, img.Pushed = img.Digest, img.Pushed.UTC()
		index[k] = len(images)
		images = append(images, img)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("compliance images of run %d: %w", runID, err)
	}
	const ofRun = `(s.repository_id, s.tag_digest) IN (SELECT t.repository_id,
		d.manifest_digest FROM decisions d JOIN tags t ON t.id = d.tag_id
		WHERE d.run_id = $1 AND d.decision = 'scan')`
	rows, _ = s.pool.Query(ctx, `SELECT s.id, s.repository_id, s.tag_digest,
		s.manifest_digest, s.platform, s.status FROM vuln_scans s WHERE `+ofRun+`
		ORDER BY s.id`, runID)
	scans := map[int64][2]int{} // scan id → image index, manifest index
	var id int64
	var m vuln.ManifestScan
	_, err = pgx.ForEachRow(rows, []any{&id, &k.repoID, &k.digest, &m.Manifest, &m.Platform,
		&m.Status}, func() error {
		i := index[k]
		scans[id] = [2]int{i, len(images[i].Manifests)}
		images[i].Manifests = append(images[i].Manifests, m)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scans of run %d: %w", runID, err)
	}
	rows, _ = s.pool.Query(ctx, `SELECT f.scan_id, f.vulnerability, f.severity, f.package,
		f.version, f.fixed_by FROM vuln_findings f JOIN vuln_scans s ON s.id = f.scan_id
		WHERE f.fixed_by <> '' AND `+ofRun, runID)
	var f vuln.Finding
	var sev string
	_, err = pgx.ForEachRow(rows, []any{&id, &f.Vulnerability, &sev, &f.Package, &f.Version,
		&f.FixedBy}, func() error {
		f.Severity, _ = vuln.ParseSeverity(sev)
		at := scans[id]
		ms := &images[at[0]].Manifests[at[1]]
		ms.Fixable = append(ms.Fixable, f)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("fixable findings of run %d: %w", runID, err)
	}
	return images, nil
}

// SaveCompliance stores a run's compliance verdicts with the settings and instant they were
// reached at, replacing an earlier evaluation of the run, and returns their counts.
func (s *Store) SaveCompliance(ctx context.Context, runID int64, at time.Time,
	c vuln.ComplianceSettings, verdicts []vuln.Verdict) (vuln.ComplianceCounts, error) {
	counts := vuln.Count(verdicts)
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM compliance_evaluations WHERE run_id = $1`, runID)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO compliance_evaluations (run_id, evaluated_at,
				fixable_severity_threshold, max_image_age_days, require_latest_scanned,
				images, failed)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, runID, at.UTC(), c.FixableSeverityThreshold,
			c.MaxImageAgeDays, c.RequireLatestScanned, counts.Images, counts.Failed)
		if err != nil {
			return err
		}
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"compliance_results"}, []string{"run_id",
			"repository", "manifest_digest", "tags", "latest", "pushed", "scan_status",
			"passed", "rules", "messages"},
			pgx.CopyFromSlice(len(verdicts), func(i int) ([]any, error) {
				v := verdicts[i]
				rules, messages := make([]string, len(v.Failures)), make([]string, len(v.Failures))
				for j, f := range v.Failures {
					rules[j], messages[j] = string(f.Rule), f.Message
				}
				return []any{runID, v.Repository, v.Digest, v.Tags, v.Latest, v.Pushed,
					v.ScanStatus, v.Passed, rules, messages}, nil
			}))
		return err
	})
	if err != nil {
		return counts, fmt.Errorf("save compliance of run %d: %w", runID, err)
	}
	return counts, nil
}

// LatestComplianceRun returns the ID of the organization's newest run with a compliance
// evaluation, or ErrNotFound.
func (s *Store) LatestComplianceRun(ctx context.Context, orgID int64) (int64, error) {
	var id int64
	err := s.pool.QueryRow(ctx, `SELECT e.run_id FROM compliance_evaluations e
		JOIN runs r ON r.id = e.run_id WHERE r.organization_id = $1
		ORDER BY e.run_id DESC LIMIT 1`, orgID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("latest compliance evaluation of organization %d: %w", orgID, err)
	}
	return id, nil
}

// Compliance returns a run's stored compliance evaluation, images by repository then digest;
// the caller fills in the organization's name.
func (s *Store) Compliance(ctx context.Context, runID int64) (vuln.ComplianceReport, error) {
	r := vuln.ComplianceReport{RunID: runID, Images: []vuln.Verdict{}}
	var at time.Time
	err := s.pool.QueryRow(ctx, `SELECT evaluated_at, fixable_severity_threshold,
		max_image_age_days, require_latest_scanned FROM compliance_evaluations
		WHERE run_id = $1`, runID).Scan(&at, &r.Settings.FixableSeverityThreshold,
		&r.Settings.MaxImageAgeDays, &r.Settings.RequireLatestScanned)
	if errors.Is(err, pgx.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return r, fmt.Errorf("compliance of run %d: %w", runID, err)
	}
	r.EvaluatedAt = at.UTC().Format(time.RFC3339)
	rows, _ := s.pool.Query(ctx, `SELECT repository, manifest_digest, tags, latest, pushed,
		scan_status, passed, rules, messages FROM compliance_results WHERE run_id = $1
		ORDER BY repository, manifest_digest`, runID)
	var v vuln.Verdict
	var rules, messages []string
	_, err = pgx.ForEachRow(rows, []any{&v.Repository, &v.Digest, &v.Tags, &v.Latest,
		&v.Pushed, &v.ScanStatus, &v.Passed, &rules, &messages}, func() error {
		v.Pushed, v.Failures = v.Pushed.UTC(), make([]vuln.Failure, len(rules))
		for i := range rules {
			v.Failures[i] = vuln.Failure{Rule: vuln.Rule(rules[i]), Message: messages[i]}
		}
		r.Images = append(r.Images, v)
		return nil
	})
	if err != nil {
		return r, fmt.Errorf("compliance results of run %d: %w", runID, err)
	}
	r.Summary = vuln.Count(r.Images)
	return r, nil
}
