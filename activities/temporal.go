package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"quaykeeper/internal/schedule"
)

// Custom search attributes set on every sync, so an operator filters runs by host and
// organization in the Temporal UI. `make run` registers them on the dev server; another
// server needs `temporal operator search-attribute create --name QuayHost --type Keyword`
// (and the same for QuayOrganization).
var (
	QuayHostKey         = temporal.NewSearchAttributeKeyKeyword("QuayHost")
	QuayOrganizationKey = temporal.NewSearchAttributeKeyKeyword("QuayOrganization")
)

// SearchAttributes are a sync's custom search attributes.
func SearchAttributes(host, org string) temporal.SearchAttributes {
	return temporal.NewSearchAttributes(QuayHostKey.ValueSet(host),
		QuayOrganizationKey.ValueSet(org))
}

// StartWorkflowInput starts a workflow whose input the caller encoded as JSON.
type StartWorkflowInput struct {
	ID           string
	Workflow     string
	Input        json.RawMessage
	Host         string
	Organization string
	// AfterRunning says the running execution is finishing (it sent its last signal): wait
	// for it to close, then start.
	AfterRunning bool
}

// finishingWait bounds how long StartWorkflow waits for a finishing execution to close.
const finishingWait = time.Minute

// StartWorkflow starts a sync unless one with the same ID is running, and reports whether it
// started one. The workflow ID is the lock that keeps two runs of an organization apart.
func (a *Activities) StartWorkflow(ctx context.Context, in StartWorkflowInput) (bool, error) {
	started, err := a.startWorkflow(ctx, in)
	if started || err != nil || !in.AfterRunning {
		return started, err
	}
	// A sync tells its connection workflow that it ended just before it closes.
	waitCtx, cancel := context.WithTimeout(ctx, finishingWait)
	defer cancel()
	_ = a.Temporal.GetWorkflow(waitCtx, in.ID, "").Get(waitCtx, nil) // its outcome is not ours
	return a.startWorkflow(ctx, in)
}

func (a *Activities) startWorkflow(ctx context.Context, in StartWorkflowInput) (bool, error) {
	_, err := a.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       in.ID,
		TaskQueue:                a.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		TypedSearchAttributes:    SearchAttributes(in.Host, in.Organization),

		// Without this the SDK hands back the running execution as if it had started one,
		// and a run asked for meanwhile would be lost instead of pending.
		WorkflowExecutionErrorWhenAlreadyStarted: true,
	}, in.Workflow, in.Input)
	var running *serviceerror.WorkflowExecutionAlreadyStarted
	switch {
	case errors.As(err, &running):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("start workflow %s: %w", in.ID, err)
	}
	return true, nil
}

// ScheduleInput is the wanted state of an organization's schedule.
type ScheduleInput struct {
	ID       string
	Spec     schedule.Spec
	Paused   bool
	Workflow string
	// WorkflowID prefixes the IDs of the workflows the schedule starts (Temporal appends
	// the scheduled time).
	WorkflowID string
	Input      json.RawMessage
	Note       string
}

func scheduleSpec(s schedule.Spec) client.ScheduleSpec {
	s = s.Normalize()
	if s.Cron != "" {
		return client.ScheduleSpec{CronExpressions: []string{s.Cron}}
	}
	return client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: s.Every}},
		Jitter: s.Jitter()}
}

// EnsureSchedule creates the schedule, or updates it in place, so that it runs on the spec
// with overlap policy skip and is paused exactly when the organization is. Running it again
// changes nothing, so a retry never makes two.
func (a *Activities) EnsureSchedule(ctx context.Context, in ScheduleInput) error {
	sc := a.Temporal.ScheduleClient()
	action := &client.ScheduleWorkflowAction{ID: in.WorkflowID, Workflow: in.Workflow,
		Args: []any{in.Input}, TaskQueue: a.TaskQueue}
	_, err := sc.Create(ctx, client.ScheduleOptions{ID: in.ID, Spec: scheduleSpec(in.Spec),
		Action: action, Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP, Paused: in.Paused,
		Note: in.Note})
	if err == nil {
		return nil
	}
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		var invalid *serviceerror.InvalidArgument
		if errors.As(err, &invalid) {
			return temporal.NewNonRetryableApplicationError(fmt.Sprintf(
				"Temporal refused the schedule %s: %s", in.Spec, invalid.Message),
				ErrTypeInvalidSettings, nil)
		}
		return fmt.Errorf("create schedule %s: %w", in.ID, err)
	}
	h := sc.GetHandle(ctx, in.ID)
	err = h.Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(u client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			s := u.Description.Schedule
			spec := scheduleSpec(in.Spec)
			s.Spec = &spec
			s.Action = action
			if s.Policy != nil {
				s.Policy.Overlap = enumspb.SCHEDULE_OVERLAP_POLICY_SKIP
			}
			if s.State != nil {
				s.State.Paused = in.Paused
				s.State.Note = in.Note
			}
			return &client.ScheduleUpdate{Schedule: &s}, nil
		},
	})
	if err != nil {
		return fmt.Errorf("update schedule %s: %w", in.ID, err)
	}
	desc, err := h.Describe(ctx)
	if err != nil {
		return fmt.Errorf("describe schedule %s: %w", in.ID, err)
	}
	if desc.Schedule.State.Paused != in.Paused {
		if in.Paused {
			err = h.Pause(ctx, client.SchedulePauseOptions{Note: in.Note})
		} else {
			err = h.Unpause(ctx, client.ScheduleUnpauseOptions{Note: in.Note})
		}
		if err != nil {
			return fmt.Errorf("set pause of schedule %s: %w", in.ID, err)
		}
	}
	return nil
}

// DeleteSchedule deletes an organization's schedule; one already gone is fine.
func (a *Activities) DeleteSchedule(ctx context.Context, id string) error {
	err := a.Temporal.ScheduleClient().GetHandle(ctx, id).Delete(ctx)
	var notFound *serviceerror.NotFound
	if err != nil && !errors.As(err, &notFound) {
		return fmt.Errorf("delete schedule %s: %w", id, err)
	}
	return nil
}
