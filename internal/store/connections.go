package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"quaykeeper/internal/policy"
	"quaykeeper/internal/secret"
)

// Connection is a Quay instance quaykeeper reads with a stored token.
type Connection struct {
	ID        int64
	Host      string // scheme://host[:port]
	AllowHTTP bool
	Username  string
	TokenName string
	CreatedAt time.Time
	UpdatedAt time.Time

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
	// Organizations the token sees; each is added (with default settings) if it is new.
	Organizations []string
}

// SaveConnection stores a connection, replacing the token of an existing one for the same
// host, and adds the organizations it sees. Organizations already known keep their settings.
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
				token_sealed = excluded.token_sealed, updated_at = now()
			RETURNING `+connectionColumns,
			nc.Host, nc.AllowHTTP, nc.Username, nc.TokenName, sealed)
		if c, err = scanConnection(row); err != nil {
			return fmt.Errorf("save connection %s: %w", nc.Host, err)
		}
		def := policy.DefaultSettings()
		for _, org := range nc.Organizations {
			_, err := tx.Exec(ctx, `
				INSERT INTO organizations (connection_id, name, tag_regex,
					age_threshold_months, keep_latest)
				VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (connection_id, name) DO NOTHING`,
				c.ID, org, def.TagRegex, def.AgeThresholdMonths, def.KeepLatest)
			if err != nil {
				return fmt.Errorf("add organization %s: %w", org, err)
			}
		}
		return nil
	})
	return c, err
}

const connectionColumns = `id, host, allow_http, username, token_name, token_sealed,
	created_at, updated_at`

func scanConnection(row pgx.Row) (Connection, error) {
	var c Connection
	err := row.Scan(&c.ID, &c.Host, &c.AllowHTTP, &c.Username, &c.TokenName, &c.sealed,
		&c.CreatedAt, &c.UpdatedAt)
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
}

const organizationQuery = `
	SELECT o.id, o.connection_id, c.host, o.name, o.tag_regex, o.age_threshold_months,
		o.keep_latest
	FROM organizations o JOIN connections c ON c.id = o.connection_id`

func scanOrganizations(rows pgx.Rows) ([]Organization, error) {
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Organization, error) {
		var o Organization
		err := row.Scan(&o.ID, &o.ConnectionID, &o.Host, &o.Name, &o.Settings.TagRegex,
			&o.Settings.AgeThresholdMonths, &o.Settings.KeepLatest)
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

// Organizations lists every organization of every connection, by host and name.
func (s *Store) Organizations(ctx context.Context) ([]Organization, error) {
	rows, _ := s.pool.Query(ctx, organizationQuery+` ORDER BY c.host, o.name`)
	orgs, err := scanOrganizations(rows)
	if err != nil {
		return nil, fmt.Errorf("list organizations: %w", err)
	}
	return orgs, nil
}

// FindOrganization finds an organization by name, on the given host when host is not empty.
// The error says what is known when the name is unknown or matches on several hosts.
func (s *Store) FindOrganization(ctx context.Context, name, host string) (Organization, error) {
	all, err := s.Organizations(ctx)
	if err != nil {
		return Organization{}, err
	}
	var found []Organization
	var known []string
	for _, o := range all {
		known = append(known, o.Name+" ("+o.Host+")")
		if o.Name == name && (host == "" || o.Host == host) {
			found = append(found, o)
		}
	}
	switch {
	case len(found) == 1:
		return found[0], nil
	case len(found) > 1:
		return Organization{}, fmt.Errorf("organization %q is known on several hosts; "+
			"choose one with --host: %s", name, strings.Join(known, ", "))
	case len(all) == 0:
		return Organization{}, fmt.Errorf("unknown organization %q: no Quay is connected yet; "+
			"run `starter connect --host URL` first", name)
	default:
		return Organization{}, fmt.Errorf("unknown organization %q: the connected tokens see "+
			"%s; check the spelling, or reconnect with a token that sees it", name,
			strings.Join(known, ", "))
	}
}
