package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"quaykeeper/internal/quay"
	"quaykeeper/internal/store"
	"quaykeeper/internal/vuln"
	"quaykeeper/workflows"
)

// connectionByURL finds the stored connection of a host URL.
func (a *app) connectionByURL(ctx context.Context, raw string) (store.Connection, error) {
	u, err := quay.ParseHost(raw, true)
	if err != nil {
		return store.Connection{}, err
	}
	st, err := a.openStore(ctx)
	if err != nil {
		return store.Connection{}, err
	}
	conn, err := st.ConnectionByHost(ctx, u.String())
	if errors.Is(err, store.ErrNotFound) {
		return conn, fmt.Errorf("%s is not connected: run `starter connect --host %s` first",
			u, u)
	}
	return conn, err
}

// Status is `starter status --format json`: every connection with its organizations.
type Status struct {
	Temporal    string             `json:"temporal"` // "ok" or why not
	Connections []ConnectionStatus `json:"connections"`
}

// ConnectionStatus is one connection's health and organizations.
type ConnectionStatus struct {
	Host             string      `json:"host"`
	User             string      `json:"user"`
	TokenName        string      `json:"token_name"`
	NeedsToken       bool        `json:"needs_token"`
	NeedsTokenReason string      `json:"needs_token_reason,omitempty"`
	Workflow         string      `json:"workflow"` // "running" or why not
	LastRejected     *Rejected   `json:"last_rejected,omitempty"`
	Organizations    []OrgStatus `json:"organizations"`
}

// Rejected is the last signal the connection workflow refused.
type Rejected struct {
	Signal       string    `json:"signal"`
	Organization string    `json:"organization,omitempty"`
	Reason       string    `json:"reason"`
	At           time.Time `json:"at"`
}

// OrgStatus is one organization's settings, schedule and last run.
type OrgStatus struct {
	Name               string `json:"name"`
	TagRegex           string `json:"tag_regex"`
	AgeThresholdMonths int    `json:"age_threshold_months"`
	KeepLatest         int    `json:"keep_latest"`
	Schedule           string `json:"schedule"`
	Paused             bool   `json:"paused"`
	// Compliance are the organization's compliance policies.
	Compliance vuln.ComplianceSettings `json:"compliance"`
	NextSync   *time.Time              `json:"next_sync,omitempty"`
	LastRun    *RunStatus              `json:"last_run,omitempty"`
}

// RunStatus is an organization's newest run.
type RunStatus struct {
	ID       int64         `json:"id"`
	Kind     string        `json:"kind"`
	Status   string        `json:"status"`
	Started  time.Time     `json:"started"`
	Finished *time.Time    `json:"finished,omitempty"`
	Tags     int           `json:"tags"`
	Summary  store.Summary `json:"summary"`
	Error    string        `json:"error,omitempty"`
}

func (a *app) status(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	format := fs.String("format", "table", "table or json")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *format != "table" && *format != "json" {
		return fmt.Errorf("status: unknown format %q: use table or json: %w", *format, errUsage)
	}
	st, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	conns, err := st.Connections(ctx)
	if err != nil {
		return err
	}
	orgs, err := st.Organizations(ctx)
	if err != nil {
		return err
	}
	out := Status{Temporal: "ok", Connections: []ConnectionStatus{}}
	tc, err := a.temporal(ctx)
	if err != nil {
		out.Temporal = err.Error()
	}
	for _, c := range conns {
		cs := ConnectionStatus{Host: c.Host, User: c.Username, TokenName: c.TokenName,
			NeedsToken: c.NeedsToken, NeedsTokenReason: c.NeedsTokenReason,
			Workflow: "unknown: Temporal is unreachable", Organizations: []OrgStatus{}}
		if tc != nil {
			cs.Workflow = "running"
			if state, err := a.connectionState(ctx, c.Host); err != nil {
				cs.Workflow = "not running: " + err.Error()
			} else if state.Disconnected {
				cs.Workflow = "ended (disconnected)"
			} else if r := state.LastRejected; r != nil {
				cs.LastRejected = &Rejected{Signal: r.Signal, Organization: r.Organization,
					Reason: r.Reason, At: r.At}
			}
		}
		for _, o := range orgs {
			if o.ConnectionID != c.ID {
				continue
			}
			cs.Organizations = append(cs.Organizations, a.orgStatus(ctx, o))
		}
		out.Connections = append(out.Connections, cs)
	}
	if *format == "json" {
		enc := json.NewEncoder(a.out)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	return writeStatus(a, out)
}

func (a *app) orgStatus(ctx context.Context, o store.Organization) OrgStatus {
	status := OrgStatus{Name: o.Name, TagRegex: o.Settings.TagRegex,
		AgeThresholdMonths: o.Settings.AgeThresholdMonths, KeepLatest: o.Settings.KeepLatest,
		Schedule: o.Schedule.String(), Paused: o.Paused, Compliance: o.Compliance}
	if a.tc != nil {
		h := a.tc.ScheduleClient().GetHandle(ctx, workflows.ScheduleID(o.Host, o.Name))
		if desc, err := h.Describe(ctx); err == nil && len(desc.Info.NextActionTimes) > 0 {
			next := desc.Info.NextActionTimes[0].UTC()
			status.NextSync = &next
		}
	}
	if r, err := a.store.LatestAnyRun(ctx, o.ID); err == nil {
		status.LastRun = &RunStatus{ID: r.ID, Kind: r.Kind, Status: r.Status, Started: r.StartedAt,
			Finished: r.FinishedAt, Tags: r.Tags, Summary: r.Summary, Error: r.Error}
	}
	return status
}

func writeStatus(a *app, s Status) error {
	fmt.Fprintf(a.out, "Temporal: %s\n", s.Temporal)
	if len(s.Connections) == 0 {
		fmt.Fprintln(a.out, "No Quay connected: run `starter connect --host URL`.")
	}
	for _, c := range s.Connections {
		health := "token ok"
		switch {
		case c.NeedsTokenReason == store.Disconnected:
			health = "disconnected (starter connect --host " + c.Host + " to connect again)"
		case c.NeedsToken:
			health = "NEEDS A NEW TOKEN: " + c.NeedsTokenReason + " (starter rotate-token --host " +
				c.Host + ")"
		}
		fmt.Fprintf(a.out, "\n%s as %s, token %s: %s; workflow %s\n", c.Host, c.User,
			c.TokenName, health, c.Workflow)
		if r := c.LastRejected; r != nil {
			fmt.Fprintf(a.out, "  last rejected signal: %s %s at %s: %s\n", r.Signal,
				r.Organization, r.At.Format(time.RFC3339), r.Reason)
		}
		tw := tabwriter.NewWriter(a.out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  ORGANIZATION\tSETTINGS\tSCHEDULE\tNEXT SYNC\tLAST RUN")
		for _, o := range c.Organizations {
			sched, next := o.Schedule, "-"
			if o.Paused {
				sched += " (paused)"
			}
			if o.NextSync != nil && !o.Paused {
				next = o.NextSync.Format(time.RFC3339)
			}
			last := "none"
			if r := o.LastRun; r != nil {
				last = fmt.Sprintf("#%d %s %s %s: %d scan, %d retain, %d prune", r.ID, r.Kind,
					r.Status, r.Started.UTC().Format(time.RFC3339), r.Summary.Scan,
					r.Summary.Retain, r.Summary.Prune)
				if r.Error != "" {
					last += ": " + r.Error
				}
			}
			regex := o.TagRegex
			if regex == "" {
				regex = "(none)"
			}
			fmt.Fprintf(tw, "  %s\tregex %s, %d months, keep %d\t%s\t%s\t%s\n", o.Name, regex,
				o.AgeThresholdMonths, o.KeepLatest, sched, next, last)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}
