package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"quaykeeper/internal/policy"
	"quaykeeper/internal/schedule"
	"quaykeeper/internal/secret"
	"quaykeeper/internal/vuln"
)

// Connection is a Quay instance quaykeeper reads with a stored token.
type Connection struct {
	ID        int64
	Host      string // scheme://host[:port]
	AllowHTTP bool
	Username  string
	TokenName string
	// NeedsToken is set when Quay rejected the token mid-run; a rotation clears it.
	NeedsToken       bool
	NeedsTokenReason string
	CreatedAt        time.Time
	UpdatedAt        time.Time

	sealed []byte
}

// Token opens the connection's sealed token.
func (c Connection) Token(box *secret.Box) (string, error) {
	plain, err := box.Open(c.sealed, []byte(c.Host))
	if err != nil {
		return "", fmt.Errorf("token of %s: %w", c.Host, err)
	}
	return string(plain), nil
}

// NewConnection describes a connection to save; the token is sealed before it is stored.
type NewConnection struct {
	Host      string
	AllowHTTP bool
	Username  string
	TokenName string
	Token     string
}

// SaveConnection stores a connection, replacing the token of an existing one for the same
// host. A new token clears the connection's need for one.
func (s *Store) SaveConnection(ctx context.Context, box *secret.Box, nc NewConnection) (
	Connection, error) {
	sealed, err := box.Seal([]byte(nc.Token), []byte(nc.Host))
	if err != nil {
		return Connection{}, fmt.Errorf("seal token: %w", err)
	}
	var c Connection
	err = s.withTx(ctx, func(tx pgx.Tx) error {
		row := tx.QueryRow(ctx, `
			INSERT INTO connections (host, allow_http, username, token_name, token_sealed)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (host) DO UPDATE SET allow_http = excluded.allow_http,
				username = excluded.username, token_name = excluded.token_name,
				token_sealed = excluded.token_sealed, needs_token = false,
				needs_token_reason = NULL, updated_at = now()
			RETURNING `+connectionColumns,
			nc.Host, nc.AllowHTTP, nc.Username, nc.TokenName, sealed)
		if c, err = scanConnection(row); err != nil {
			return fmt.Errorf("save connection %s: %w", nc.Host, err)
		}
		return nil
	})
	return c, err
}

// AddOrganizations adds organizations to a connection with default settings, or brings back
// ones dropped before with the settings they had, and returns them.
func (s *Store) AddOrganizations(ctx context.Context, connID int64, names []string) (
	[]Organization, error) {
	def := policy.DefaultSettings()
	batch := &pgx.Batch{}
	for _, name := range names {
		batch.Queue(`
			INSERT INTO organizations (connection_id, name, tag_regex, age_threshold_months,
				keep_latest)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (connection_id, name) DO UPDATE SET dropped_at = NULL`,
			connID, name, def.TagRegex, def.AgeThresholdMonths, def.KeepLatest)
	}
	if err := s.pool.SendBatch(ctx, batch).Close(); err != nil {
		return nil, fmt.Errorf("add organizations %v: %w", names, err)
	}
	rows, _ := s.pool.Query(ctx, organizationQuery+` WHERE o.connection_id = $1
		AND o.name = ANY($2) ORDER BY o.name`, connID, names)
	orgs, err := scanOrganizations(rows)
	if err != nil {
		return nil, fmt.Errorf("read added organizations: %w", err)
	}
	return orgs, nil
}

// DropOrganization takes an organization off its connection; its inventory and runs stay.
func (s *Store) DropOrganization(ctx context.Context, orgID int64) error {
	_, err := s.pool.Exec(ctx, `UPDATE organizations SET dropped_at = now()
		WHERE id = $1 AND dropped_at IS NULL`, orgID)
	if err != nil {
		return fmt.Errorf("drop organization %d: %w", orgID, err)
	}
	return nil
}

// SetNeedsToken marks a connection whose token Quay rejected, with the reason to show.
func (s *Store) SetNeedsToken(ctx context.Context, connID int64, reason string) error {
	_, err := s.pool.Exec(ctx, `UPDATE connections SET needs_token = true,
		needs_token_reason = $2, updated_at = now() WHERE id = $1`, connID, reason)
	if err != nil {
		return fmt.Errorf("mark connection %d as needing a token: %w", connID, err)
	}
	return nil
}

// Disconnected is the NeedsTokenReason of a connection whose token was forgotten.
const Disconnected = "disconnected"

// ForgetToken wipes a disconnected connection's token; its inventory stays for reports.
func (s *Store) ForgetToken(ctx context.Context, connID int64) error {
	_, err := s.pool.Exec(ctx, `UPDATE connections SET token_sealed = '', needs_token = true,
		needs_token_reason = $2, updated_at = now() WHERE id = $1`, connID, Disconnected)
	if err != nil {
		return fmt.Errorf("forget token of connection %d: %w", connID, err)
	}
	return nil
}

// Connections lists every connection by host.
func (s *Store) Connections(ctx context.Context) ([]Connection, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+connectionColumns+` FROM connections ORDER BY host`)
	conns, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Connection, error) {
		return scanConnection(row)
	})
	if err != nil {
		return nil, fmt.Errorf("list connections: %w", err)
	}
	return conns, nil
}

// ConnectionByHost returns the connection of a host (scheme://host[:port]).
func (s *Store) ConnectionByHost(ctx context.Context, host string) (Connection, error) {
	c, err := scanConnection(s.pool.QueryRow(ctx,
		`SELECT `+connectionColumns+` FROM connections WHERE host = $1`, host))
	if err != nil {
		return c, fmt.Errorf("connection %s: %w", host, err)
	}
	return c, nil
}

const connectionColumns = `id, host, allow_http, username, token_name, token_sealed,
	needs_token, coalesce(needs_token_reason, ''), created_at, updated_at`

func scanConnection(row pgx.Row) (Connection, error) {
	var c Connection
	err := row.Scan(&c.ID, &c.Host, &c.AllowHTTP, &c.Username, &c.TokenName, &c.sealed,
		&c.NeedsToken, &c.NeedsTokenReason, &c.CreatedAt, &c.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, ErrNotFound
	}
	return c, err
}

// Connection returns the connection with the given ID.
func (s *Store) Connection(ctx context.Context, id int64) (Connection, error) {
	c, err := scanConnection(s.pool.QueryRow(ctx,
		`SELECT `+connectionColumns+` FROM connections WHERE id = $1`, id))
	if err != nil {
		return c, fmt.Errorf("connection %d: %w", id, err)
	}
	return c, nil
}

// Organization is one Quay organization quaykeeper keeps an inventory of.
type Organization struct {
	ID           int64
	ConnectionID int64
	Host         string
	Name         string
	Settings     policy.Settings
	Schedule     schedule.Spec
	Compliance   vuln.ComplianceSettings
	Paused       bool
	// Dropped organizations keep their inventory and runs for reports but are not synced.
	Dropped bool
}

// OrgSettings returns what an operator can change about the organization.
func (o Organization) OrgSettings() OrgSettings {
	return OrgSettings{Retention: o.Settings, Schedule: o.Schedule, Compliance: o.Compliance}
}

const organizationQuery = `
	SELECT o.id, o.connection_id, c.host, o.name, o.tag_regex, o.age_threshold_months,
		o.keep_latest, o.schedule_every_seconds, o.schedule_cron, o.paused,
		o.fixable_severity_threshold, o.max_image_age_days, o.require_latest_scanned,
		o.dropped_at IS NOT NULL
	FROM organizations o JOIN connections c ON c.id = o.connection_id`

func scanOrganizations(rows pgx.Rows) ([]Organization, error) {
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Organization, error) {
		var o Organization
		var everySeconds int64
		err := row.Scan(&o.ID, &o.ConnectionID, &o.Host, &o.Name, &o.Settings.TagRegex,
			&o.Settings.AgeThresholdMonths, &o.Settings.KeepLatest, &everySeconds,
			&o.Schedule.Cron, &o.Paused, &o.Compliance.FixableSeverityThreshold,
			&o.Compliance.MaxImageAgeDays, &o.Compliance.RequireLatestScanned, &o.Dropped)
		if o.Schedule.Cron == "" {
			o.Schedule.Every = time.Duration(everySeconds) * time.Second
		}
		return o, err
	})
}

// Organization returns the organization with the given ID.
func (s *Store) Organization(ctx context.Context, id int64) (Organization, error) {
	rows, _ := s.pool.Query(ctx, organizationQuery+` WHERE o.id = $1`, id)
	orgs, err := scanOrganizations(rows)
	if err != nil {
		return Organization{}, fmt.Errorf("organization %d: %w", id, err)
	}
	if len(orgs) == 0 {
		return Organization{}, fmt.Errorf("organization %d: %w", id, ErrNotFound)
	}
	return orgs[0], nil
}

// Organizations lists every organization of every connection that is not dropped, by host
// and name.
func (s *Store) Organizations(ctx context.Context) ([]Organization, error) {
	rows, _ := s.pool.Query(ctx, organizationQuery+` WHERE o.dropped_at IS NULL
		ORDER BY c.host, o.name`)
	orgs, err := scanOrganizations(rows)
	if err != nil {
		return nil, fmt.Errorf("list organizations: %w", err)
	}
	return orgs, nil
}

// FindOrganization finds an organization by name, on the given host when host is not empty;
// a dropped one is found too (its Dropped is set), for reports. The error says what is known
// when the name is unknown or matches on several hosts.
func (s *Store) FindOrganization(ctx context.Context, name, host string) (Organization, error) {
	rows, _ := s.pool.Query(ctx, organizationQuery+` ORDER BY c.host, o.name`)
	all, err := scanOrganizations(rows)
	if err != nil {
		return Organization{}, fmt.Errorf("list organizations: %w", err)
	}
	var found []Organization
	var known, hosts []string
	for _, o := range all {
		known = append(known, o.Name+" ("+o.Host+")")
		if o.Name == name && (host == "" || o.Host == host) {
			found = append(found, o)
			hosts = append(hosts, o.Host)
		}
	}
	switch {
	case len(found) == 1:
		return found[0], nil
	case len(found) > 1:
		return Organization{}, fmt.Errorf("organization %q is known on several hosts; "+
			"choose one with --host: %s", name, strings.Join(hosts, ", "))
	case len(all) == 0:
		return Organization{}, fmt.Errorf("unknown organization %q: no Quay is connected yet; "+
			"run `starter connect --host URL` first", name)
	default:
		return Organization{}, fmt.Errorf("unknown organization %q: the connected tokens see "+
			"%s; check the spelling, or reconnect with a token that sees it", name,
			strings.Join(known, ", "))
	}
}
