package main

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"time"

	"quaykeeper/internal/store"
	"quaykeeper/workflows"
)

// settings changes an organization's retention settings or schedule. It validates with the
// workflow's own code before it sends, then waits for the workflow to accept or reject it.
func (a *app) settings(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("settings", flag.ContinueOnError)
	orgName := fs.String("org", "", "organization")
	host := fs.String("host", "", "Quay host URL, when the organization is on several")
	regex := fs.String("tag-regex", "", "RE2 regex of tags to scan too (anchored; \"\" for none)")
	months := fs.Int("age-months", 0, "age threshold in months (1-120)")
	keep := fs.Int("keep-latest", 0, "latest images kept per repository (1-100)")
	every := fs.Duration("every", 0, "sync every DURATION, e.g. 6h (with jitter)")
	cron := fs.String("cron", "", "sync on a cron expression, e.g. \"0 3 * * *\"")
	fixable := fs.String("fixable-severity", "", "compliance: fail images with a fixable "+
		"finding at or above this severity (\"\" turns it off)")
	maxAge := fs.Int("max-image-age-days", 0, "compliance: fail scanned images older than N "+
		"days (0 turns it off)")
	latest := fs.Bool("require-latest-scanned", true, "compliance: fail latest images not "+
		"scanned")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	sig := workflows.SettingsSignal{ID: signalID(), Actor: actor()}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "tag-regex":
			sig.TagRegex = regex
		case "age-months":
			sig.AgeThresholdMonths = months
		case "keep-latest":
			sig.KeepLatest = keep
		case "every":
			sig.Every = every
		case "cron":
			sig.Cron = cron
		case "fixable-severity":
			sig.FixableSeverityThreshold = fixable
		case "max-image-age-days":
			sig.MaxImageAgeDays = maxAge
		case "require-latest-scanned":
			sig.RequireLatestScanned = latest
		}
	})
	if sig == (workflows.SettingsSignal{ID: sig.ID, Actor: sig.Actor}) {
		return fmt.Errorf("settings: nothing to change; give --tag-regex, --age-months, "+
			"--keep-latest, --every, --cron, --fixable-severity, --max-image-age-days or "+
			"--require-latest-scanned: %w", errUsage)
	}
	org, conn, err := a.activeOrg(ctx, *orgName, *host)
	if err != nil {
		return err
	}
	sig.Organization = org.Name
	next, err := sig.Apply(org.OrgSettings())
	if err != nil {
		return fmt.Errorf("settings of %s: %v: %w", org.Name, err, errUsage)
	}
	if err := a.signalConnection(ctx, conn, workflows.SignalSettings, sig); err != nil {
		return err
	}
	if _, err := a.awaitState(ctx, conn.Host, workflows.SignalSettings, sig.ID,
		func(s workflows.ConnectionState) bool {
			return slices.Contains(s.AppliedSettings, sig.ID)
		}); err != nil {
		return err
	}
	r, c := next.Retention, next.Compliance
	fmt.Fprintf(a.out, "Settings of %s: tag regex %q, age threshold %d months, keep latest %d, "+
		"%s; compliance: fixable severity %q, max image age %d days, latest scanned %t.\n",
		org.Name, r.TagRegex, r.AgeThresholdMonths, r.KeepLatest, next.Schedule,
		c.FixableSeverityThreshold, c.MaxImageAgeDays, c.RequireLatestScanned)
	if r != org.Settings || next.Compliance != org.Compliance {
		fmt.Fprintf(a.out, "Re-evaluating the stored inventory (no crawl); see `starter "+
			"report --org %s` in a few seconds.\n", org.Name)
	}
	return nil
}

// rotateToken replaces a connection's token after Quay accepted the new one; the token is
// stored sealed and only its name travels in the signal.
func (a *app) rotateToken(ctx context.Context, args []string) error {
	if err := refuseTokenFlag("rotate-token", args); err != nil {
		return err
	}
	fs := flag.NewFlagSet("rotate-token", flag.ContinueOnError)
	hostFlag := fs.String("host", "", "Quay host URL of the connection")
	tokenStdin := fs.Bool("token-stdin", false, "read the token from standard input")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *hostFlag == "" {
		return fmt.Errorf("rotate-token: --host is required: %w", errUsage)
	}
	old, err := a.connectionByURL(ctx, *hostFlag)
	if err != nil {
		return err
	}
	if old.NeedsTokenReason == store.Disconnected {
		return fmt.Errorf("%s was disconnected: connect it again with `starter connect "+
			"--host %s`", old.Host, old.Host)
	}
	client, user, token, err := a.checkToken(ctx, old.Host, old.AllowHTTP, *tokenStdin)
	if err != nil {
		return err
	}
	conn, err := a.saveToken(ctx, client, user, old.AllowHTTP, token)
	if err != nil {
		return err
	}
	sig := workflows.RotateTokenSignal{TokenName: conn.TokenName, Actor: actor()}
	if err := a.signalConnection(ctx, conn, workflows.SignalRotateToken, sig); err != nil {
		return err
	}
	if _, err := a.awaitState(ctx, conn.Host, workflows.SignalRotateToken, "",
		func(s workflows.ConnectionState) bool {
			return !s.NeedsToken && s.TokenName == conn.TokenName
		}); err != nil {
		return err
	}
	fmt.Fprintf(a.out, "Token of %s rotated: stored encrypted as %s (user %s).\n", conn.Host,
		conn.TokenName, conn.Username)
	return nil
}

// disconnect drops one organization, or the whole connection and its token. Inventories
// and runs stay in PostgreSQL for reports.
func (a *app) disconnect(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("disconnect", flag.ContinueOnError)
	hostFlag := fs.String("host", "", "Quay host URL of the connection")
	orgName := fs.String("org", "", "drop only this organization")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *hostFlag == "" {
		return fmt.Errorf("disconnect: --host is required: %w", errUsage)
	}
	conn, err := a.connectionByURL(ctx, *hostFlag)
	if err != nil {
		return err
	}
	if *orgName != "" {
		sig := workflows.ConnectSignal{Drop: []string{*orgName}, Actor: actor()}
		if err := a.signalConnection(ctx, conn, workflows.SignalConnect, sig); err != nil {
			return err
		}
		if _, err := a.awaitState(ctx, conn.Host, workflows.SignalConnect, "",
			func(s workflows.ConnectionState) bool {
				for _, o := range s.Organizations {
					if o.Name == *orgName {
						return false
					}
				}
				return true
			}); err != nil {
			return err
		}
		fmt.Fprintf(a.out, "Dropped %s from %s; its schedule is deleted.\n", *orgName, conn.Host)
		return nil
	}
	sig := workflows.OrgSignal{Actor: actor()}
	if err := a.signalConnection(ctx, conn, workflows.SignalDisconnect, sig); err != nil {
		return err
	}
	deadline := time.Now().Add(stateWait)
	for {
		c, err := a.store.Connection(ctx, conn.ID)
		if err == nil && c.NeedsTokenReason == store.Disconnected {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("sent, but the disconnect was not confirmed within %s (is the "+
				"worker running?)", stateWait)
		}
		time.Sleep(300 * time.Millisecond)
	}
	fmt.Fprintf(a.out, "Disconnected %s: schedules deleted, token forgotten; reports stay.\n",
		conn.Host)
	return nil
}
