// Command starter is quaykeeper's command-line client: it connects a Quay instance, starts
// and follows organization syncs on Temporal, and prints reports and previews from
// PostgreSQL.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"quaykeeper/internal/config"
	"quaykeeper/internal/quay"
	"quaykeeper/internal/secret"
	"quaykeeper/internal/store"
)

const usage = `usage: starter COMMAND [flags]

Commands:
  connect --host URL [--allow-http] [--token-stdin]
        validate a Quay token (from QUAY_TOKEN, or stdin with --token-stdin), store it
        encrypted, and hand the organizations it sees to the connection's workflow, which
        keeps each on a schedule
  status [--format table|json]
        connections, organizations, schedules, last runs and health
  settings --org ORG [--tag-regex RE] [--age-months N] [--keep-latest K]
           [--every DURATION | --cron EXPR] [--fixable-severity S]
           [--max-image-age-days N] [--require-latest-scanned=BOOL]
        change retention settings, the schedule or compliance policies; a retention or
        compliance change re-evaluates the stored inventory as a new run
  pause --org ORG, resume --org ORG
        pause or resume an organization's scheduled syncs
  sync-now --org ORG
        ask for a sync now (it starts when a run going on ends)
  rotate-token --host URL [--token-stdin]
        replace a connection's token after Quay accepted the new one
  disconnect --host URL [--org ORG]
        drop one organization, or the whole connection and its token
  sync --org ORG [--host URL] [--wait]
        start a sync of an organization; --wait follows it and fails when the run fails
  report --org ORG [--host URL] [--format table|json|csv]
        the latest completed run's decisions
  preview --org ORG [--host URL] [--tag-regex RE] [--age-months N] [--keep-latest K]
          [--as-of RFC3339] [--format table|json|csv]
        evaluate the stored inventory with other settings; nothing is saved
  vulns --org ORG [--host URL] [--repo R] [--min-severity S] [--fixable]
        [--format table|json|csv]
        the inventory's vulnerability findings, most urgent first, with the images that
        carry each and a summary
  compliance --org ORG [--host URL] [--run ID] [--format table|json|csv]
        the latest run's compliance verdict per image; exits 1 when any image fails

Run "starter COMMAND -h" for a command's flags. Configuration comes from the environment
(see README.md).
`

// errUsage marks an error in how the command was called; it exits with status 2.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout)
	stop()
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		fmt.Fprintln(os.Stderr, "starter:", strings.TrimSuffix(err.Error(), ": usage"))
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "starter:", err)
		os.Exit(1)
	}
}

// app holds what the commands share, built on first use.
type app struct {
	cfg   config.Starter
	log   *slog.Logger
	in    io.Reader
	out   io.Writer
	store *store.Store
	tc    client.Client
}

func run(ctx context.Context, args []string, in io.Reader, out io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(out, usage)
		return nil
	}
	a := &app{in: in, out: out}
	if err := config.Load(&a.cfg); err != nil {
		return err
	}
	log, err := a.cfg.Log.NewLogger()
	if err != nil {
		return err
	}
	a.log = log
	defer a.close()
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "connect":
		return a.connect(ctx, rest)
	case "sync":
		return a.sync(ctx, rest)
	case "status":
		return a.status(ctx, rest)
	case "settings":
		return a.settings(ctx, rest)
	case "pause":
		return a.pause(ctx, rest, true)
	case "resume":
		return a.pause(ctx, rest, false)
	case "sync-now":
		return a.syncNow(ctx, rest)
	case "rotate-token":
		return a.rotateToken(ctx, rest)
	case "disconnect":
		return a.disconnect(ctx, rest)
	case "report":
		return a.report(ctx, rest)
	case "preview":
		return a.preview(ctx, rest)
	case "vulns":
		return a.vulns(ctx, rest)
	case "compliance":
		return a.compliance(ctx, rest)
	}
	return fmt.Errorf("unknown command %q; run \"starter help\" for the list: %w", cmd,
		errUsage)
}

// openStore connects to PostgreSQL on first use.
func (a *app) openStore(ctx context.Context) (*store.Store, error) {
	if a.store == nil {
		st, err := store.Open(ctx, a.cfg.Database.URL, a.log)
		if err != nil {
			return nil, err
		}
		a.store = st
	}
	return a.store, nil
}

func (a *app) box() (*secret.Box, error) {
	key, err := secret.ParseKey(a.cfg.Secret.Key)
	if err != nil {
		return nil, err
	}
	return secret.NewBox(key)
}

// temporal connects to Temporal on first use.
func (a *app) temporal(ctx context.Context) (client.Client, error) {
	if a.tc == nil {
		tc, err := client.DialContext(ctx, client.Options{
			HostPort: a.cfg.Temporal.Address, Namespace: a.cfg.Temporal.Namespace,
			Logger: tlog.NewStructuredLogger(a.log),
		})
		if err != nil {
			return nil, fmt.Errorf("connect to Temporal at %s (is it running? set "+
				"TEMPORAL_ADDRESS): %w", a.cfg.Temporal.Address, err)
		}
		a.tc = tc
	}
	return a.tc, nil
}

func (a *app) close() {
	if a.store != nil {
		a.store.Close()
	}
	if a.tc != nil {
		a.tc.Close()
	}
}

// parseFlags parses a command's flags, turning a bad flag into a usage error and refusing
// stray arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(os.Stdout)
			fs.PrintDefaults()
			return err
		}
		return fmt.Errorf("%s: %v (run \"starter %s -h\"): %w", fs.Name(), err, fs.Name(),
			errUsage)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument %q: %w", fs.Name(), fs.Arg(0), errUsage)
	}
	return nil
}

// findOrg resolves --org and --host to a stored organization.
func (a *app) findOrg(ctx context.Context, org, host string) (store.Organization, error) {
	if org == "" {
		return store.Organization{}, fmt.Errorf("--org is required: %w", errUsage)
	}
	if host != "" {
		u, err := quay.ParseHost(strings.TrimSpace(host), true)
		if err != nil {
			return store.Organization{}, fmt.Errorf("--host: %v: %w", err, errUsage)
		}
		host = u.String()
	}
	st, err := a.openStore(ctx)
	if err != nil {
		return store.Organization{}, err
	}
	return st.FindOrganization(ctx, org, host)
}
