package activities

import (
	"context"

	"quaykeeper/internal/store"
)

// AddOrganizationsInput names organizations to add to a connection.
type AddOrganizationsInput struct {
	ConnectionID int64
	Names        []string
}

// AddOrganizations adds organizations to a connection (with default settings when new) and
// returns them as stored.
func (a *Activities) AddOrganizations(ctx context.Context, in AddOrganizationsInput) (
	[]store.Organization, error) {
	return a.Store.AddOrganizations(ctx, in.ConnectionID, in.Names)
}

// DropOrganization takes an organization off its connection; its inventory stays.
func (a *Activities) DropOrganization(ctx context.Context, orgID int64) error {
	return a.Store.DropOrganization(ctx, orgID)
}

// ApplySettingsInput is an accepted settings change.
type ApplySettingsInput struct {
	OrganizationID int64
	Settings       store.OrgSettings
	Actor          string
	SignalID       string
}

// ApplySettings stores an organization's new settings and records who changed what.
func (a *Activities) ApplySettings(ctx context.Context, in ApplySettingsInput) error {
	_, err := a.Store.UpdateSettings(ctx, in.OrganizationID, in.Settings, in.Actor, in.SignalID)
	return err
}

// SetPausedInput pauses or resumes an organization.
type SetPausedInput struct {
	OrganizationID int64
	Paused         bool
}

// SetPaused records whether an organization is paused.
func (a *Activities) SetPaused(ctx context.Context, in SetPausedInput) error {
	return a.Store.SetPaused(ctx, in.OrganizationID, in.Paused)
}

// NeedsTokenInput marks a connection whose token Quay rejected.
type NeedsTokenInput struct {
	ConnectionID int64
	Reason       string
}

// SetNeedsToken records that the connection needs a new token, for `starter status`.
func (a *Activities) SetNeedsToken(ctx context.Context, in NeedsTokenInput) error {
	return a.Store.SetNeedsToken(ctx, in.ConnectionID, in.Reason)
}

// ForgetToken wipes a disconnected connection's token.
func (a *Activities) ForgetToken(ctx context.Context, connID int64) error {
	return a.Store.ForgetToken(ctx, connID)
}
