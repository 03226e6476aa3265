package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"quaykeeper/internal/policy"
	"quaykeeper/internal/schedule"
	"quaykeeper/internal/vuln"
)

// OrgSettings is everything an operator can change about one organization.
type OrgSettings struct {
	Retention  policy.Settings         `json:"retention"`
	Schedule   schedule.Spec           `json:"schedule"`
	Compliance vuln.ComplianceSettings `json:"compliance"`
}

// SettingsChange is one recorded change of an organization's settings.
type SettingsChange struct {
	Actor string
	Old   OrgSettings
	New   OrgSettings
}

// UpdateSettings stores an organization's new settings and records the change (who, when,
// old, new) in the same transaction. signalID identifies the request, so a retried activity
// records it once. It returns the settings that were replaced.
func (s *Store) UpdateSettings(ctx context.Context, orgID int64, next OrgSettings, actor,
	signalID string) (OrgSettings, error) {
	var old OrgSettings
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, organizationQuery+` WHERE o.id = $1 FOR UPDATE OF o`, orgID)
		orgs, err := scanOrganizations(rows)
		if err != nil {
			return err
		}
		if len(orgs) == 0 {
			return ErrNotFound
		}
		old = orgs[0].OrgSettings()
		sched := next.Schedule.Normalize()
		r := next.Retention
		if _, err := tx.Exec(ctx, `UPDATE organizations SET tag_regex = $2,
			age_threshold_months = $3, keep_latest = $4, schedule_every_seconds = $5,
			schedule_cron = $6 WHERE id = $1`, orgID, r.TagRegex, r.AgeThresholdMonths,
			r.KeepLatest, max(int64(sched.Every.Seconds()), 1), sched.Cron); err != nil {
			return err
		}
		if err := setCompliance(ctx, tx, orgID, next.Compliance); err != nil {
			return err
		}
		oldJSON, _ := json.Marshal(old)
		newJSON, _ := json.Marshal(next)
		_, err = tx.Exec(ctx, `INSERT INTO settings_changes (organization_id, actor,
			old_settings, new_settings, signal_id) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (signal_id) DO NOTHING`, orgID, actor, oldJSON, newJSON, signalID)
		return err
	})
	if err != nil {
		return old, fmt.Errorf("update settings of organization %d: %w", orgID, err)
	}
	return old, nil
}

// SettingsChanges returns an organization's recorded changes, newest first.
func (s *Store) SettingsChanges(ctx context.Context, orgID int64) ([]SettingsChange, error) {
	rows, _ := s.pool.Query(ctx, `SELECT actor, old_settings, new_settings
		FROM settings_changes WHERE organization_id = $1 ORDER BY id DESC`, orgID)
	changes, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (SettingsChange, error) {
		var c SettingsChange
		err := row.Scan(&c.Actor, &c.Old, &c.New)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("settings changes of organization %d: %w", orgID, err)
	}
	return changes, nil
}

// SetPaused records whether an organization's scheduled syncs are paused.
func (s *Store) SetPaused(ctx context.Context, orgID int64, paused bool) error {
	if _, err := s.pool.Exec(ctx, `UPDATE organizations SET paused = $2 WHERE id = $1`, orgID,
		paused); err != nil {
		return fmt.Errorf("pause organization %d: %w", orgID, err)
	}
	return nil
}
