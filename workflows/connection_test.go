package workflows_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"quaykeeper/activities"
	"quaykeeper/internal/policy"
	"quaykeeper/internal/schedule"
	"quaykeeper/internal/store"
	"quaykeeper/workflows"
)

const host = "https://quay.test"

// connectionEnv is a test environment for ConnectionWorkflow whose activities record what
// they were asked to do.
type connectionEnv struct {
	*testsuite.TestWorkflowEnvironment
	started   []workflows.SyncInput
	schedules map[string]activities.ScheduleInput
	deleted   []string
	applied   []activities.ApplySettingsInput
	running   bool // StartWorkflow answers "already running"
}

func newConnectionEnv(t *testing.T) *connectionEnv {
	var s testsuite.WorkflowTestSuite
	e := &connectionEnv{TestWorkflowEnvironment: s.NewTestWorkflowEnvironment(),
		schedules: map[string]activities.ScheduleInput{}}
	e.RegisterWorkflowWithOptions(workflows.ConnectionWorkflow,
		workflow.RegisterOptions{Name: workflows.ConnectionWorkflowName})
	e.RegisterActivity(acts)
	e.OnActivity(acts.AddOrganizations, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.AddOrganizationsInput) ([]store.Organization,
			error) {
			var orgs []store.Organization
			for i, n := range in.Names {
				orgs = append(orgs, store.Organization{ID: int64(100 + i), Name: n,
					Host: host, Settings: policy.DefaultSettings(),
					Schedule: schedule.Default()})
			}
			return orgs, nil
		}).Maybe()
	e.OnActivity(acts.EnsureSchedule, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ScheduleInput) error {
			e.schedules[in.ID] = in
			return nil
		}).Maybe()
	e.OnActivity(acts.DeleteSchedule, mock.Anything, mock.Anything).Return(
		func(_ context.Context, id string) error {
			e.deleted = append(e.deleted, id)
			delete(e.schedules, id)
			return nil
		}).Maybe()
	e.OnActivity(acts.StartWorkflow, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.StartWorkflowInput) (bool, error) {
			if e.running {
				return false, nil
			}
			var si workflows.SyncInput
			require.NoError(t, json.Unmarshal(in.Input, &si))
			e.started = append(e.started, si)
			return true, nil
		}).Maybe()
	e.OnActivity(acts.ApplySettings, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ApplySettingsInput) error {
			e.applied = append(e.applied, in)
			return nil
		}).Maybe()
	e.OnActivity(acts.SetPaused, mock.Anything, mock.Anything).Return(nil).Maybe()
	e.OnActivity(acts.DropOrganization, mock.Anything, mock.Anything).Return(nil).Maybe()
	e.OnActivity(acts.SetNeedsToken, mock.Anything, mock.Anything).Return(nil).Maybe()
	e.OnActivity(acts.ForgetToken, mock.Anything, mock.Anything).Return(nil).Maybe()
	return e
}

// at sends a signal at a moment of the workflow's timeline.
func (e *connectionEnv) at(d time.Duration, name string, arg any) {
	e.RegisterDelayedCallback(func() { e.SignalWorkflow(name, arg) }, d)
}

func (e *connectionEnv) state(t *testing.T) workflows.ConnectionState {
	v, err := e.QueryWorkflow(workflows.StateQuery)
	require.NoError(t, err)
	var st workflows.ConnectionState
	require.NoError(t, v.Get(&st))
	return st
}

func (e *connectionEnv) run(t *testing.T, end time.Duration, check func()) {
	e.RegisterDelayedCallback(func() {
		check()
		e.SignalWorkflow(workflows.SignalDisconnect, workflows.OrgSignal{})
	}, end)
	e.ExecuteWorkflow(workflows.ConnectionWorkflow, workflows.ConnectionInput{ConnectionID: 1,
		Host: host})
	require.True(t, e.IsWorkflowCompleted())
	require.NoError(t, e.GetWorkflowError())
}

func ptr[T any](v T) *T { return &v }

func TestConnectAddsOrganizationsWithSchedules(t *testing.T) {
	e := newConnectionEnv(t)
	e.at(time.Second, workflows.SignalConnect, workflows.ConnectSignal{
		Add: []string{"beta", "acme", "beta"}})
	e.at(2*time.Second, workflows.SignalConnect, workflows.ConnectSignal{Drop: []string{"nope"}})
	e.run(t, 3*time.Second, func() {
		st := e.state(t)
		require.Equal(t, []string{"acme", "beta"}, st.OrgNames())
		require.Len(t, e.schedules, 2)
		sched := e.schedules[workflows.ScheduleID(host, "acme")]
		require.Equal(t, schedule.Default(), sched.Spec)
		require.False(t, sched.Paused)
		require.Equal(t, workflows.ScheduledSyncName, sched.Workflow)
		require.NotNil(t, st.LastRejected)
		require.Equal(t, workflows.SignalConnect, st.LastRejected.Signal)
		require.Contains(t, st.LastRejected.Reason, `unknown organization "nope"`)
	})
	require.ElementsMatch(t, []string{workflows.ScheduleID(host, "acme"),
		workflows.ScheduleID(host, "beta")}, e.deleted, "disconnect deletes every schedule")
}

func TestSettingsAreValidatedAppliedAndReevaluated(t *testing.T) {
	e := newConnectionEnv(t)
	e.at(time.Second, workflows.SignalConnect, workflows.ConnectSignal{Add: []string{"acme"}})
	e.at(2*time.Second, workflows.SignalSettings, workflows.SettingsSignal{ID: "bad",
		Organization: "acme", TagRegex: ptr("v(1")})
	e.at(3*time.Second, workflows.SignalSettings, workflows.SettingsSignal{ID: "range",
		Organization: "acme", KeepLatest: ptr(0)})
	e.at(4*time.Second, workflows.SignalSettings, workflows.SettingsSignal{ID: "unknown",
		Organization: "nope", KeepLatest: ptr(2)})
	e.at(5*time.Second, workflows.SignalSettings, map[string]any{"Organization": "acme",
		"KeepLatest": "two"})
	e.RegisterDelayedCallback(func() {
		require.Contains(t, e.state(t).LastRejected.Reason, "not a settings signal")
	}, 5500*time.Millisecond)
	e.at(6*time.Second, workflows.SignalSettings, map[string]any{"Organization": "acme",
		"KeepLatests": 2})
	e.RegisterDelayedCallback(func() {
		require.Contains(t, e.state(t).LastRejected.Reason, `unknown field "KeepLatests"`)
	}, 6500*time.Millisecond)
	e.at(7*time.Second, workflows.SignalSettings, workflows.SettingsSignal{ID: "last",
		Organization: "nope"})
	e.run(t, 8*time.Second, func() {
		st := e.state(t)
		require.Equal(t, policy.DefaultSettings(), st.Organizations[0].Settings.Retention,
			"rejected signals keep the old settings")
		require.Contains(t, st.LastRejected.Reason, `unknown organization "nope"`)
		require.Empty(t, e.applied)
		require.Empty(t, e.started)
	})

	e = newConnectionEnv(t)
	e.at(time.Second, workflows.SignalConnect, workflows.ConnectSignal{Add: []string{"acme"}})
	e.at(2*time.Second, workflows.SignalSettings, workflows.SettingsSignal{ID: "ok",
		Organization: "acme", TagRegex: ptr(`v\d+`), Actor: "bob"})
	e.at(3*time.Second, workflows.SignalSettings, workflows.SettingsSignal{ID: "sched",
		Organization: "acme", Every: ptr(time.Hour)})
	e.run(t, 4*time.Second, func() {
		st := e.state(t)
		require.Equal(t, `v\d+`, st.Organizations[0].Settings.Retention.TagRegex)
		require.Nil(t, st.LastRejected)
		require.Len(t, e.applied, 2)
		require.Equal(t, "bob", e.applied[0].Actor)
		require.Equal(t, "ok", e.applied[0].SignalID)
		require.Len(t, e.started, 1, "a retention change re-evaluates; a schedule change not")
		require.Equal(t, store.KindReevaluate, e.started[0].Kind)
		require.Equal(t, workflows.ConnectionWorkflowID(host), e.started[0].ConnectionWorkflowID)
		require.Equal(t, time.Hour, e.schedules[workflows.ScheduleID(host, "acme")].Spec.Every)
	})
}

func TestSignalsDuringARunArePendingUntilItFinishes(t *testing.T) {
	e := newConnectionEnv(t)
	e.at(time.Second, workflows.SignalConnect, workflows.ConnectSignal{Add: []string{"acme"}})
	e.at(2*time.Second, workflows.SignalSyncNow, workflows.OrgSignal{Organization: "acme"})
	e.RegisterDelayedCallback(func() { e.running = true }, 3*time.Second)
	e.at(4*time.Second, workflows.SignalSettings, workflows.SettingsSignal{ID: "mid",
		Organization: "acme", KeepLatest: ptr(3)})
	e.at(5*time.Second, workflows.SignalSyncNow, workflows.OrgSignal{Organization: "acme"})
	e.RegisterDelayedCallback(func() { e.running = false }, 6*time.Second)
	e.at(7*time.Second, workflows.SignalRunFinished, workflows.RunFinishedSignal{
		Organization: "acme", RunID: 9, Outcome: store.RunCompleted})
	e.run(t, 8*time.Second, func() {
		require.Len(t, e.started, 2, "the sync asked for mid-run starts when the run ends")
		require.Equal(t, store.KindSync, e.started[1].Kind, "a pending sync covers a "+
			"pending re-evaluation")
		st := e.state(t)
		require.Equal(t, 3, st.Organizations[0].Settings.Retention.KeepLatest)
		require.Equal(t, int64(9), st.Organizations[0].LastRun.RunID)
		require.Empty(t, st.Organizations[0].Pending)
	})
}

func TestPauseResumeAndTokenRejection(t *testing.T) {
	e := newConnectionEnv(t)
	e.at(time.Second, workflows.SignalConnect, workflows.ConnectSignal{Add: []string{"acme"}})
	e.at(2*time.Second, workflows.SignalPause, workflows.OrgSignal{Organization: "acme"})
	e.RegisterDelayedCallback(func() {
		require.True(t, e.schedules[workflows.ScheduleID(host, "acme")].Paused)
	}, 2500*time.Millisecond)
	e.at(3*time.Second, workflows.SignalSyncNow, workflows.OrgSignal{Organization: "acme"})
	e.RegisterDelayedCallback(func() {
		require.Contains(t, e.state(t).LastRejected.Reason, "paused")
	}, 3500*time.Millisecond)
	e.at(4*time.Second, workflows.SignalResume, workflows.OrgSignal{Organization: "acme"})
	e.at(5*time.Second, workflows.SignalRunFinished, workflows.RunFinishedSignal{
		Organization: "acme", Outcome: store.RunFailed, Error: "token rejected",
		ErrorType: activities.ErrTypeQuayUnauthorized})
	e.at(6*time.Second, workflows.SignalSyncNow, workflows.OrgSignal{Organization: "acme"})
	e.RegisterDelayedCallback(func() {
		st := e.state(t)
		require.True(t, st.NeedsToken)
		require.Contains(t, st.LastRejected.Reason, "rotate-token")
	}, 6500*time.Millisecond)
	e.at(7*time.Second, workflows.SignalRotateToken, workflows.RotateTokenSignal{TokenName: "t2"})
	e.at(8*time.Second, workflows.SignalSyncNow, workflows.OrgSignal{Organization: "acme"})
	e.run(t, 9*time.Second, func() {
		st := e.state(t)
		require.False(t, st.NeedsToken)
		require.False(t, st.Organizations[0].Paused)
		require.False(t, e.schedules[workflows.ScheduleID(host, "acme")].Paused)
		require.Len(t, e.started, 1, "only the sync after the rotation started")
	})
}
