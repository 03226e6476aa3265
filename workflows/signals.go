package workflows

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"quaykeeper/internal/schedule"
	"quaykeeper/internal/store"
)

// Names of the connection workflow, its signals and its query. The starter sends the
// signals with SignalWithStart, so the first one also starts the workflow.
const (
	ConnectionWorkflowName = "QuayConnection"
	ScheduledSyncName      = "ScheduledSync"

	SignalConnect     = "connect"
	SignalRotateToken = "rotate-token"
	SignalSettings    = "settings"
	SignalPause       = "pause"
	SignalResume      = "resume"
	SignalSyncNow     = "sync-now"
	SignalDisconnect  = "disconnect"
	// SignalRunFinished is sent by each sync to its connection workflow when it ends.
	SignalRunFinished = "run-finished"

	// StateQuery answers with the connection's ConnectionState.
	StateQuery = "state"
)

// HostKey is the host[:port] of a connection's URL, as workflow IDs and search attributes
// show it.
func HostKey(host string) string {
	if u, err := url.Parse(host); err == nil && u.Host != "" {
		return u.Host
	}
	return host
}

// ConnectionWorkflowID is the ID of a Quay connection's workflow, e.g.
// "quay-connection/quay.example.com".
func ConnectionWorkflowID(host string) string { return "quay-connection/" + HostKey(host) }

// ScheduleID is the ID of an organization's Temporal Schedule, e.g.
// "quay-schedule/quay.example.com/acme".
func ScheduleID(host, org string) string { return "quay-schedule/" + HostKey(host) + "/" + org }

// ConnectSignal adds and drops organizations of the connection.
type ConnectSignal struct {
	Add   []string
	Drop  []string
	Actor string
}

// RotateTokenSignal says that a new token was validated and stored under TokenName. The
// token itself never travels in a signal.
type RotateTokenSignal struct {
	TokenName string
	Actor     string
}

// SettingsSignal changes one organization's settings; nil fields stay as they are. ID makes
// the change's record idempotent.
type SettingsSignal struct {
	ID                 string
	Organization       string
	TagRegex           *string
	AgeThresholdMonths *int
	KeepLatest         *int
	Every              *time.Duration
	Cron               *string
	// Compliance policies (vuln.ComplianceSettings).
	FixableSeverityThreshold *string
	MaxImageAgeDays          *int
	RequireLatestScanned     *bool
	Actor                    string
}

// Apply returns the settings with the signal's changes applied, or an error that says what
// is wrong and how to fix it. The starter and the workflow both validate with it.
func (s SettingsSignal) Apply(cur store.OrgSettings) (store.OrgSettings, error) {
	next := cur
	if s.TagRegex != nil {
		next.Retention.TagRegex = *s.TagRegex
	}
	if s.AgeThresholdMonths != nil {
		next.Retention.AgeThresholdMonths = *s.AgeThresholdMonths
	}
	if s.KeepLatest != nil {
		next.Retention.KeepLatest = *s.KeepLatest
	}
	if s.FixableSeverityThreshold != nil {
		next.Compliance.FixableSeverityThreshold = *s.FixableSeverityThreshold
	}
	if s.MaxImageAgeDays != nil {
		next.Compliance.MaxImageAgeDays = *s.MaxImageAgeDays
	}
	if s.RequireLatestScanned != nil {
		next.Compliance.RequireLatestScanned = *s.RequireLatestScanned
	}
	if s.Every != nil && s.Cron != nil {
		return cur, fmt.Errorf("schedule: give either --every or --cron, not both")
	}
	if s.Every != nil {
		if *s.Every <= 0 {
			return cur, fmt.Errorf("schedule: every must be from %s to %s, got %s",
				schedule.MinEvery, schedule.MaxEvery, *s.Every)
		}
		next.Schedule.Every, next.Schedule.Cron = *s.Every, ""
	}
	if s.Cron != nil {
		next.Schedule.Every, next.Schedule.Cron = 0, *s.Cron
	}
	next.Schedule = next.Schedule.Normalize()
	if err := next.Retention.Validate(); err != nil {
		return cur, err
	}
	if err := next.Schedule.Validate(); err != nil {
		return cur, err
	}
	if err := next.Compliance.Validate(); err != nil {
		return cur, err
	}
	return next, nil
}

// OrgSignal names one organization, for pause, resume and sync-now.
type OrgSignal struct {
	Organization string
	Actor        string
}

// RunFinishedSignal reports the end of an organization's run to its connection workflow.
type RunFinishedSignal struct {
	Organization string
	RunID        int64
	Kind         string
	Outcome      string // store.RunCompleted or store.RunFailed
	At           time.Time
	Repositories int
	Tags         int
	Summary      store.Summary
	Error        string
	ErrorType    string
}

// ConnectionState is what the connection workflow knows, as its state query answers.
type ConnectionState struct {
	ConnectionID     int64
	Host             string
	NeedsToken       bool
	NeedsTokenReason string
	TokenName        string
	Organizations    []OrgState // sorted by name
	LastRejected     *Rejection
	// AppliedSettings are the IDs of the latest settings signals applied.
	AppliedSettings []string
	// SignalSeq numbers the settings signals that came without an ID.
	SignalSeq    int
	Disconnected bool
}

// OrgState is one organization of a connection.
type OrgState struct {
	Name           string
	OrganizationID int64
	Settings       store.OrgSettings
	Paused         bool
	// Pending is the run kind requested while another run of the organization was going
	// on; it starts when that run finishes.
	Pending string
	LastRun *RunFinishedSignal
}

// Rejection is a signal the workflow refused, and why.
type Rejection struct {
	Signal       string
	Organization string
	// ID is the settings signal's ID, so its sender knows the rejection is its own.
	ID     string
	Reason string
	At     time.Time
}

// appliedKept bounds the IDs of applied settings signals the state remembers.
const appliedKept = 32

// remember notes an applied settings signal, so that its sender can tell it took effect
// even when another change followed at once.
func (s *ConnectionState) remember(id string) {
	if id == "" {
		return
	}
	s.AppliedSettings = append(s.AppliedSettings, id)
	if n := len(s.AppliedSettings); n > appliedKept {
		s.AppliedSettings = slices.Clone(s.AppliedSettings[n-appliedKept:])
	}
}

// org returns the named organization's state, or nil.
func (s *ConnectionState) org(name string) *OrgState {
	i, ok := slices.BinarySearchFunc(s.Organizations, name, func(o OrgState, n string) int {
		return strings.Compare(o.Name, n)
	})
	if !ok {
		return nil
	}
	return &s.Organizations[i]
}

// OrgNames lists the connection's organizations.
func (s *ConnectionState) OrgNames() []string {
	names := make([]string, len(s.Organizations))
	for i, o := range s.Organizations {
		names[i] = o.Name
	}
	return names
}

// UnknownOrgError is the error of a signal naming an organization the connection does not
// hold; the starter uses the same words.
func UnknownOrgError(org string, known []string) error {
	if len(known) == 0 {
		return fmt.Errorf("unknown organization %q: the connection has no organizations", org)
	}
	return fmt.Errorf("unknown organization %q: the connection has %s", org,
		strings.Join(known, ", "))
}
