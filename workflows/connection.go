package workflows

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"quaykeeper/activities"
	"quaykeeper/internal/schedule"
	"quaykeeper/internal/store"
)

// maxSignalsPerRun bounds the signals one execution handles before it continues as new,
// even when the server does not suggest it yet.
const maxSignalsPerRun = 500

// ConnectionInput starts (or continues) a connection's workflow.
type ConnectionInput struct {
	ConnectionID int64
	Host         string
	// State is carried over continue-as-new; a new workflow leaves it nil.
	State *ConnectionState
}

// ConnectionWorkflow is the long-lived owner of one Quay connection's organizations: it
// keeps their schedules in step with their settings, serialises their runs, and answers what
// it knows. Every change arrives as a signal; a bad signal is rejected (and the rejection
// kept for the state query) without failing the workflow.
func ConnectionWorkflow(ctx workflow.Context, in ConnectionInput) error {
	c := &connection{state: in.State}
	if c.state == nil {
		c.state = &ConnectionState{ConnectionID: in.ConnectionID, Host: in.Host}
	}
	if err := workflow.SetQueryHandler(ctx, StateQuery, func() (ConnectionState, error) {
		return *c.state, nil
	}); err != nil {
		return fmt.Errorf("register state query: %w", err)
	}
	c.ctx = workflow.WithActivityOptions(ctx, activityOptions(time.Minute, 0))
	c.channels = []signalChannel{
		{SignalConnect, receive(c, c.onConnect)},
		{SignalRotateToken, receive(c, c.onRotateToken)},
		{SignalSettings, receive(c, c.onSettings)},
		{SignalPause, receive(c, func(s OrgSignal) error { return c.onPause(s, true) })},
		{SignalResume, receive(c, func(s OrgSignal) error { return c.onPause(s, false) })},
		{SignalSyncNow, receive(c, c.onSyncNow)},
		{SignalRunFinished, receive(c, c.onRunFinished)},
		{SignalDisconnect, receive(c, c.onDisconnect)},
	}
	sel := workflow.NewSelector(ctx)
	for _, ch := range c.channels {
		sel.AddReceive(workflow.GetSignalChannel(ctx, ch.name),
			func(rc workflow.ReceiveChannel, _ bool) { ch.handle(ctx, rc, false) })
	}
	for handled := 0; !c.state.Disconnected; handled++ {
		sel.Select(ctx)
		if handled >= maxSignalsPerRun || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			c.drain(ctx)
			if c.state.Disconnected {
				break
			}
			return workflow.NewContinueAsNewError(ctx, ConnectionWorkflow, ConnectionInput{
				ConnectionID: in.ConnectionID, Host: in.Host, State: c.state})
		}
	}
	return nil
}

// connection is one execution of ConnectionWorkflow.
type connection struct {
	ctx      workflow.Context // with activity options
	state    *ConnectionState
	channels []signalChannel
}

type signalChannel struct {
	name   string
	handle func(ctx workflow.Context, rc workflow.ReceiveChannel, async bool) bool
}

// receive adapts a typed handler to a signal channel: it takes one signal (waiting for it,
// or only if one is buffered when async), decodes it, runs the handler and records a
// rejection. The payload is decoded here, strictly, so that a payload of the wrong shape is
// rejected with a reason instead of reaching the handler half-decoded.
func receive[T any](c *connection, handler func(T) error) func(workflow.Context,
	workflow.ReceiveChannel, bool) bool {
	return func(ctx workflow.Context, rc workflow.ReceiveChannel, async bool) bool {
		var raw json.RawMessage
		if async {
			if !rc.ReceiveAsync(&raw) {
				return false
			}
		} else {
			rc.Receive(ctx, &raw)
		}
		var sig T
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&sig); err != nil {
			c.reject(ctx, rc.Name(), sig, fmt.Errorf("the payload is not a %s signal: %v",
				rc.Name(), err))
			return true
		}
		if err := handler(sig); err != nil {
			c.reject(ctx, rc.Name(), sig, err)
		}
		return true
	}
}

// drain handles every buffered signal, so none is lost to continue-as-new.
func (c *connection) drain(ctx workflow.Context) {
	for more := true; more; {
		more = false
		for _, ch := range c.channels {
			for ch.handle(ctx, workflow.GetSignalChannel(ctx, ch.name), true) {
				more = true
			}
		}
	}
}

// reject keeps the latest refused signal for the state query and logs it.
func (c *connection) reject(ctx workflow.Context, name string, sig any, err error) {
	org, id := "", ""
	if b, mErr := json.Marshal(sig); mErr == nil {
		var named struct{ Organization, ID string }
		_ = json.Unmarshal(b, &named)
		org, id = named.Organization, named.ID
	}
	c.state.LastRejected = &Rejection{Signal: name, Organization: org, ID: id,
		Reason: err.Error(), At: workflow.Now(ctx).UTC()}
	workflow.GetLogger(ctx).Warn("signal rejected", "signal", name, "organization", org,
		"reason", err.Error())
}

func (c *connection) onConnect(s ConnectSignal) error {
	var add []string
	for _, name := range s.Add {
		if c.state.org(name) == nil && !slices.Contains(add, name) {
			add = append(add, name)
		}
	}
	var unknown []string
	for _, name := range s.Drop {
		if c.state.org(name) == nil {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		return UnknownOrgError(strings.Join(unknown, ", "), c.state.OrgNames())
	}
	if len(add) > 0 {
		var added []store.Organization
		if err := workflow.ExecuteActivity(c.ctx, acts.AddOrganizations,
			activities.AddOrganizationsInput{ConnectionID: c.state.ConnectionID, Names: add}).
			Get(c.ctx, &added); err != nil {
			return fmt.Errorf("add organizations: %w", err)
		}
		for _, o := range added {
			c.state.Organizations = append(c.state.Organizations, OrgState{Name: o.Name,
				OrganizationID: o.ID, Paused: o.Paused, Settings: o.OrgSettings()})
		}
		slices.SortFunc(c.state.Organizations, func(a, b OrgState) int {
			return strings.Compare(a.Name, b.Name)
		})
		for _, o := range added {
			if err := c.ensureSchedule(o.Name, o.Schedule, o.Paused); err != nil {
				return err
			}
		}
	}
	for _, name := range s.Drop {
		o := c.state.org(name)
		if err := workflow.ExecuteActivity(c.ctx, acts.DeleteSchedule,
			ScheduleID(c.state.Host, name)).Get(c.ctx, nil); err != nil {
			return fmt.Errorf("delete schedule of %s: %w", name, err)
		}
		if err := workflow.ExecuteActivity(c.ctx, acts.DropOrganization, o.OrganizationID).
			Get(c.ctx, nil); err != nil {
			return fmt.Errorf("drop organization %s: %w", name, err)
		}
		c.state.Organizations = slices.DeleteFunc(c.state.Organizations, func(x OrgState) bool {
			return x.Name == name
		})
	}
	return nil
}

func (c *connection) onRotateToken(s RotateTokenSignal) error {
	c.state.NeedsToken, c.state.NeedsTokenReason = false, ""
	c.state.TokenName = s.TokenName
	return nil
}

func (c *connection) onSettings(s SettingsSignal) error {
	o := c.state.org(s.Organization)
	if o == nil {
		return UnknownOrgError(s.Organization, c.state.OrgNames())
	}
	next, err := s.Apply(o.Settings)
	if err != nil {
		return err
	}
	if s.ID == "" {
		// A signal sent by hand carries no ID; the record of the change still needs one.
		c.state.SignalSeq++
		s.ID = fmt.Sprintf("%s/%d", workflow.GetInfo(c.ctx).WorkflowExecution.RunID,
			c.state.SignalSeq)
	}
	if next == o.Settings {
		c.state.remember(s.ID)
		return nil
	}
	scheduleFirst := c.scheduleFirst()
	// The schedule changes first: if Temporal refuses it, nothing is stored or recorded.
	if scheduleFirst && next.Schedule != o.Settings.Schedule {
		if err := c.ensureSchedule(o.Name, next.Schedule, o.Paused); err != nil {
			return err
		}
	}
	if err := workflow.ExecuteActivity(c.ctx, acts.ApplySettings, activities.ApplySettingsInput{
		OrganizationID: o.OrganizationID, Settings: next, Actor: s.Actor, SignalID: s.ID}).
		Get(c.ctx, nil); err != nil {
		return fmt.Errorf("store settings of %s: %w", o.Name, err)
	}
	if !scheduleFirst && next.Schedule != o.Settings.Schedule {
		if err := c.ensureSchedule(o.Name, next.Schedule, o.Paused); err != nil {
			return err
		}
	}
	decisionsChange := next.Retention != o.Settings.Retention ||
		next.Compliance != o.Settings.Compliance
	o.Settings = next
	c.state.remember(s.ID)
	if decisionsChange {
		return c.request(o, store.KindReevaluate)
	}
	return nil
}

func (c *connection) onPause(s OrgSignal, paused bool) error {
	o := c.state.org(s.Organization)
	if o == nil {
		return UnknownOrgError(s.Organization, c.state.OrgNames())
	}
	if o.Paused == paused {
		return nil
	}
	scheduleFirst := c.scheduleFirst()
	if scheduleFirst {
		if err := c.ensureSchedule(o.Name, o.Settings.Schedule, paused); err != nil {
			return err
		}
	}
	if err := workflow.ExecuteActivity(c.ctx, acts.SetPaused, activities.SetPausedInput{
		OrganizationID: o.OrganizationID, Paused: paused}).Get(c.ctx, nil); err != nil {
		return fmt.Errorf("record pause of %s: %w", o.Name, err)
	}
	if !scheduleFirst {
		if err := c.ensureSchedule(o.Name, o.Settings.Schedule, paused); err != nil {
			return err
		}
	}
	o.Paused = paused
	return nil
}

// scheduleFirst reports whether this execution changes a schedule before it stores the
// change, so that a schedule Temporal refuses leaves nothing stored. Histories recorded
// before that order stored first.
func (c *connection) scheduleFirst() bool {
	return workflow.GetVersion(c.ctx, "schedule-first", workflow.DefaultVersion, 1) == 1
}

func (c *connection) onSyncNow(s OrgSignal) error {
	o := c.state.org(s.Organization)
	if o == nil {
		return UnknownOrgError(s.Organization, c.state.OrgNames())
	}
	if o.Paused {
		return fmt.Errorf("%s is paused: resume it first (starter resume --org %s)", o.Name,
			o.Name)
	}
	return c.request(o, store.KindSync)
}

func (c *connection) onRunFinished(s RunFinishedSignal) error {
	o := c.state.org(s.Organization)
	if o == nil {
		return nil // dropped while it ran
	}
	o.LastRun = &s
	if s.ErrorType == activities.ErrTypeQuayUnauthorized && !c.state.NeedsToken {
		c.state.NeedsToken, c.state.NeedsTokenReason = true, s.Error
		if err := workflow.ExecuteActivity(c.ctx, acts.SetNeedsToken,
			activities.NeedsTokenInput{ConnectionID: c.state.ConnectionID, Reason: s.Error}).
			Get(c.ctx, nil); err != nil {
			return fmt.Errorf("record that the connection needs a token: %w", err)
		}
	}
	if pending := o.Pending; pending != "" {
		o.Pending = ""
		return c.start(o, pending, true)
	}
	return nil
}

func (c *connection) onDisconnect(OrgSignal) error {
	for _, o := range c.state.Organizations {
		if err := workflow.ExecuteActivity(c.ctx, acts.DeleteSchedule,
			ScheduleID(c.state.Host, o.Name)).Get(c.ctx, nil); err != nil {
			return fmt.Errorf("delete schedule of %s: %w", o.Name, err)
		}
	}
	if err := workflow.ExecuteActivity(c.ctx, acts.ForgetToken, c.state.ConnectionID).
		Get(c.ctx, nil); err != nil {
		return fmt.Errorf("forget token: %w", err)
	}
	c.state.Disconnected = true
	return nil
}

// request starts a run of the organization, or, when one is going on, remembers it to
// start when that run finishes (a pending sync covers a pending re-evaluation).
func (c *connection) request(o *OrgState, kind string) error {
	return c.start(o, kind, false)
}

// start is request; afterRunning says the running sync has just reported its end, so the
// start waits for it to close instead of leaving the run pending.
func (c *connection) start(o *OrgState, kind string, afterRunning bool) error {
	if kind == store.KindSync && c.state.NeedsToken {
		return fmt.Errorf("the connection needs a new token (%s): run `starter rotate-token "+
			"--host %s`", c.state.NeedsTokenReason, c.state.Host)
	}
	in := SyncInput{OrganizationID: o.OrganizationID, Host: c.state.Host,
		Organization: o.Name, Kind: kind, ConnectionWorkflowID: ConnectionWorkflowID(
			c.state.Host)}
	payload, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("encode sync input: %w", err)
	}
	var started bool
	if err := workflow.ExecuteActivity(c.ctx, acts.StartWorkflow, activities.StartWorkflowInput{
		ID: WorkflowID(c.state.Host, o.Name), Workflow: SyncWorkflowName, Input: payload,
		Host: HostKey(c.state.Host), Organization: o.Name, AfterRunning: afterRunning}).
		Get(c.ctx, &started); err != nil {
		return fmt.Errorf("start %s of %s: %w", kind, o.Name, err)
	}
	if !started && (o.Pending == "" || kind == store.KindSync) {
		o.Pending = kind
	}
	return nil
}

// ensureSchedule creates or updates the organization's schedule to the spec and pause state.
func (c *connection) ensureSchedule(org string, spec schedule.Spec, paused bool) error {
	tick, err := json.Marshal(ScheduledSyncInput{
		ConnectionWorkflowID: ConnectionWorkflowID(c.state.Host), Organization: org})
	if err != nil {
		return fmt.Errorf("encode schedule action: %w", err)
	}
	err = workflow.ExecuteActivity(c.ctx, acts.EnsureSchedule, activities.ScheduleInput{
		ID: ScheduleID(c.state.Host, org), Spec: spec, Paused: paused,
		Workflow: ScheduledSyncName, WorkflowID: "quay-scheduled/" + HostKey(c.state.Host) +
			"/" + org, Input: tick,
		Note: fmt.Sprintf("syncs of %s on %s", org, c.state.Host)}).Get(c.ctx, nil)
	if err != nil {
		var appErr *temporal.ApplicationError
		if errors.As(err, &appErr) {
			return fmt.Errorf("schedule of %s: %s", org, appErr.Message())
		}
		return fmt.Errorf("schedule of %s: %w", org, err)
	}
	return nil
}

// ScheduledSyncInput is what an organization's schedule starts.
type ScheduledSyncInput struct {
	ConnectionWorkflowID string
	Organization         string
}

// ScheduledSyncWorkflow is the action of an organization's schedule: it asks the connection
// workflow for a sync, which starts it unless one is already running (overlap: skip).
func ScheduledSyncWorkflow(ctx workflow.Context, in ScheduledSyncInput) error {
	return workflow.SignalExternalWorkflow(ctx, in.ConnectionWorkflowID, "", SignalSyncNow,
		OrgSignal{Organization: in.Organization, Actor: "schedule"}).Get(ctx, nil)
}
