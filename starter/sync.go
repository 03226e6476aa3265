package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"quaykeeper/activities"
	"quaykeeper/internal/store"
	"quaykeeper/workflows"
)

// sync starts (or joins) the organization's sync workflow and, with --wait, follows it.
func (a *app) sync(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("sync", flag.ContinueOnError)
	orgName := fs.String("org", "", "organization to sync")
	host := fs.String("host", "", "Quay host URL, when the organization is on several")
	wait := fs.Bool("wait", false, "follow the run and exit non-zero if it fails")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	org, conn, err := a.activeOrg(ctx, *orgName, *host)
	if err != nil {
		return err
	}
	switch {
	case conn.NeedsToken:
		return fmt.Errorf("%s needs a new token (%s): run `starter rotate-token --host %s`",
			conn.Host, conn.NeedsTokenReason, conn.Host)
	case org.Paused:
		return fmt.Errorf("%s is paused: resume it first (starter resume --org %s)", org.Name,
			org.Name)
	}
	tc, err := a.temporal(ctx)
	if err != nil {
		return err
	}
	id := workflows.WorkflowID(org.Host, org.Name)
	wr, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                a.cfg.Temporal.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		TypedSearchAttributes:    activities.SearchAttributes(workflows.HostKey(org.Host), org.Name),

		WorkflowExecutionErrorWhenAlreadyStarted: true,
	}, workflows.SyncWorkflowName, workflows.SyncInput{
		OrganizationID: org.ID, Host: org.Host, Organization: org.Name,
		ConnectionWorkflowID: workflows.ConnectionWorkflowID(org.Host),
	})
	var running *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &running) {
		return a.syncAfterRunning(ctx, tc, org, conn, *wait)
	}
	if err != nil {
		return fmt.Errorf("start sync of %s: %w", org.Name, err)
	}
	fmt.Fprintf(a.out, "Sync of %s on %s: workflow %s\n  %s\n", org.Name, org.Host, id,
		a.workflowURL(id))
	if !*wait {
		return nil
	}
	return a.follow(ctx, tc, wr)
}

// syncAfterRunning asks the connection workflow for a sync that starts when the run going on
// (a sync or a re-evaluation) ends, and with wait follows both.
func (a *app) syncAfterRunning(ctx context.Context, tc client.Client, org store.Organization,
	conn store.Connection, wait bool) error {
	id := workflows.WorkflowID(org.Host, org.Name)
	desc, err := tc.DescribeWorkflow(ctx, id, "")
	if err != nil {
		return fmt.Errorf("describe the run going on for %s: %w", org.Name, err)
	}
	current := desc.WorkflowExecution.RunID
	sig := workflows.OrgSignal{Organization: org.Name, Actor: actor()}
	if err := a.signalConnection(ctx, conn, workflows.SignalSyncNow, sig); err != nil {
		return err
	}
	fmt.Fprintf(a.out, "A run of %s is going on (workflow %s); a sync starts when it ends.\n",
		org.Name, id)
	if !wait {
		return nil
	}
	_ = tc.GetWorkflow(ctx, id, current).Get(ctx, nil) // its outcome is not this sync's
	deadline := time.Now().Add(stateWait)
	for time.Now().Before(deadline) {
		if d, err := tc.DescribeWorkflow(ctx, id, ""); err == nil &&
			d.WorkflowExecution.RunID != current {
			next := d.WorkflowExecution.RunID
			fmt.Fprintf(a.out, "Sync of %s started\n  %s\n", org.Name, a.workflowURL(id))
			return a.follow(ctx, tc, tc.GetWorkflow(ctx, id, next))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(300 * time.Millisecond):
		}
	}
	return fmt.Errorf("the sync of %s did not start within %s of the run before it (is the "+
		"worker running?)", org.Name, stateWait)
}

// follow prints the sync's progress until it ends.
func (a *app) follow(ctx context.Context, tc client.Client, wr client.WorkflowRun) error {
	done := make(chan error, 1)
	var res workflows.SyncResult
	go func() { done <- wr.Get(ctx, &res) }()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var last workflows.Progress
	lastPrint := time.Now()
	for {
		select {
		case err := <-done:
			if ctx.Err() != nil {
				fmt.Fprintf(a.out, "Stopped following; the sync goes on (workflow %s).\n",
					wr.GetID())
				return nil
			}
			if err != nil {
				return fmt.Errorf("sync failed: %s", workflows.FailureMessage(err))
			}
			fmt.Fprintf(a.out, "Done: run %d, %d repositories, %d tags: %d scan, %d retain, "+
				"%d prune\n", res.RunID, res.Repositories, res.Tags, res.Summary.Scan,
				res.Summary.Retain, res.Summary.Prune)
			return nil
		case <-tick.C:
			v, err := tc.QueryWorkflow(ctx, wr.GetID(), "", workflows.ProgressQuery)
			if err != nil {
				continue // the run may be between executions (continue-as-new)
			}
			var p workflows.Progress
			if v.Get(&p) != nil || (p == last && time.Since(lastPrint) < 30*time.Second) {
				continue
			}
			last, lastPrint = p, time.Now()
			switch p.Phase {
			case workflows.PhaseTags:
				fmt.Fprintf(a.out, "  %s: %d/%d batches of %d repositories, %d tags\n",
					p.Phase, p.BatchesDone, p.Batches, p.Repositories, p.Tags)
			default:
				fmt.Fprintf(a.out, "  %s\n", p.Phase)
			}
		}
	}
}

func (a *app) workflowURL(id string) string {
	return fmt.Sprintf("%s/namespaces/%s/workflows/%s", a.cfg.Temporal.UIURL,
		url.PathEscape(a.cfg.Temporal.Namespace), url.PathEscape(id))
}
