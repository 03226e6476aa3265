package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/user"
	"time"

	"go.temporal.io/sdk/client"

	"quaykeeper/internal/store"
	"quaykeeper/workflows"
)

// signalConnection sends a signal to the connection's workflow, starting it if needed.
func (a *app) signalConnection(ctx context.Context, conn store.Connection, name string,
	arg any) error {
	tc, err := a.temporal(ctx)
	if err != nil {
		return err
	}
	id := workflows.ConnectionWorkflowID(conn.Host)
	_, err = tc.SignalWithStartWorkflow(ctx, id, name, arg, client.StartWorkflowOptions{
		ID: id, TaskQueue: a.cfg.Temporal.TaskQueue,
	}, workflows.ConnectionWorkflowName, workflows.ConnectionInput{
		ConnectionID: conn.ID, Host: conn.Host})
	if err != nil {
		return fmt.Errorf("signal %s to %s: %w", name, id, err)
	}
	return nil
}

// connectionState asks the connection's workflow what it knows.
func (a *app) connectionState(ctx context.Context, host string) (workflows.ConnectionState,
	error) {
	var st workflows.ConnectionState
	tc, err := a.temporal(ctx)
	if err != nil {
		return st, err
	}
	v, err := tc.QueryWorkflow(ctx, workflows.ConnectionWorkflowID(host), "",
		workflows.StateQuery)
	if err != nil {
		return st, fmt.Errorf("query %s: %w", workflows.ConnectionWorkflowID(host), err)
	}
	return st, v.Get(&st)
}

// stateWait bounds how long a command waits for the workflow to act on its signal.
const stateWait = 30 * time.Second

// awaitState polls the connection's state until done accepts it, or until the workflow
// rejects the signal just sent, which becomes the error.
// id, when not empty, is the settings signal's ID, which pins the rejection to this call.
func (a *app) awaitState(ctx context.Context, host, signal, id string,
	done func(workflows.ConnectionState) bool) (workflows.ConnectionState, error) {
	since := time.Now().Add(-100 * time.Millisecond)
	deadline := time.Now().Add(stateWait)
	for {
		st, err := a.connectionState(ctx, host)
		if err == nil {
			if r := st.LastRejected; r != nil && r.Signal == signal && r.At.After(since) &&
				(id == "" || r.ID == id) {
				return st, fmt.Errorf("the workflow rejected the %s signal: %s", r.Signal,
					r.Reason)
			}
			if done(st) {
				return st, nil
			}
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = errors.New("the change is not visible yet")
			}
			return st, fmt.Errorf("sent, but the connection workflow did not confirm within "+
				"%s (is the worker running?): %w", stateWait, err)
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// actor names who sent a change, for the settings history.
func actor() string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if host, err := os.Hostname(); err == nil {
		name += "@" + host
	}
	return name
}

func signalID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// orgCommand parses --org and --host for pause, resume and sync-now.
func (a *app) orgCommand(ctx context.Context, name string, args []string) (store.Organization,
	store.Connection, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	orgName := fs.String("org", "", "organization")
	host := fs.String("host", "", "Quay host URL, when the organization is on several")
	if err := parseFlags(fs, args); err != nil {
		return store.Organization{}, store.Connection{}, err
	}
	return a.activeOrg(ctx, *orgName, *host)
}

// activeOrg finds an organization that changes may be asked for: not dropped, on a
// connection that is not disconnected.
func (a *app) activeOrg(ctx context.Context, name, host string) (store.Organization,
	store.Connection, error) {
	org, err := a.findOrg(ctx, name, host)
	if err != nil {
		return org, store.Connection{}, err
	}
	conn, err := a.store.Connection(ctx, org.ConnectionID)
	switch {
	case err != nil:
		return org, conn, err
	case conn.NeedsTokenReason == store.Disconnected:
		return org, conn, fmt.Errorf("%s was disconnected: connect it again with `starter "+
			"connect --host %s`; its reports stay readable", conn.Host, conn.Host)
	case org.Dropped:
		return org, conn, fmt.Errorf("%s was dropped from %s: connect again with a token "+
			"that sees it to bring it back; its reports stay readable", org.Name, conn.Host)
	}
	return org, conn, nil
}

// pause or resume an organization's scheduled syncs.
func (a *app) pause(ctx context.Context, args []string, paused bool) error {
	name, signal, verb := "pause", workflows.SignalPause, "paused"
	if !paused {
		name, signal, verb = "resume", workflows.SignalResume, "resumed"
	}
	org, conn, err := a.orgCommand(ctx, name, args)
	if err != nil {
		return err
	}
	sig := workflows.OrgSignal{Organization: org.Name, Actor: actor()}
	if err := a.signalConnection(ctx, conn, signal, sig); err != nil {
		return err
	}
	if _, err := a.awaitState(ctx, conn.Host, signal, "", func(s workflows.ConnectionState) bool {
		for _, o := range s.Organizations {
			if o.Name == org.Name {
				return o.Paused == paused
			}
		}
		return false
	}); err != nil {
		return err
	}
	fmt.Fprintf(a.out, "%s %s: its schedule is %s.\n", verb, org.Name, verb)
	return nil
}

// syncNow asks the connection workflow for a sync now, which it skips if one is running.
func (a *app) syncNow(ctx context.Context, args []string) error {
	org, conn, err := a.orgCommand(ctx, "sync-now", args)
	if err != nil {
		return err
	}
	sig := workflows.OrgSignal{Organization: org.Name, Actor: actor()}
	sent := time.Now().Add(-100 * time.Millisecond)
	if err := a.signalConnection(ctx, conn, workflows.SignalSyncNow, sig); err != nil {
		return err
	}
	// The workflow refuses a paused organization or a rejected token at once; give it a
	// moment to say so.
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); {
		st, err := a.connectionState(ctx, conn.Host)
		if r := st.LastRejected; err == nil && r != nil && r.Signal == workflows.SignalSyncNow &&
			r.Organization == org.Name && r.At.After(sent) {
			return fmt.Errorf("the workflow refused the sync: %s", r.Reason)
		}
		time.Sleep(200 * time.Millisecond)
	}
	id := workflows.WorkflowID(org.Host, org.Name)
	fmt.Fprintf(a.out, "Asked for a sync of %s: workflow %s\n  %s\n", org.Name, id,
		a.workflowURL(id))
	return nil
}
