package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"quaykeeper/internal/quay"
	"quaykeeper/internal/store"
	"quaykeeper/workflows"
)

// connect validates a token against Quay and stores the connection. It starts no sync.
func (a *app) connect(ctx context.Context, args []string) error {
	if err := refuseTokenFlag("connect", args); err != nil {
		return err
	}
	fs := flag.NewFlagSet("connect", flag.ContinueOnError)
	hostFlag := fs.String("host", "", "Quay host URL, e.g. https://quay.example.com")
	allowHTTP := fs.Bool("allow-http", false, "allow plain http (a local simulator only)")
	tokenStdin := fs.Bool("token-stdin", false, "read the token from standard input")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *hostFlag == "" {
		return fmt.Errorf("connect: --host is required, e.g. --host https://quay.example.com: %w",
			errUsage)
	}
	client, user, token, err := a.checkToken(ctx, *hostFlag, *allowHTTP, *tokenStdin)
	if err != nil {
		return err
	}
	st, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	previous, _ := st.ConnectionByHost(ctx, client.Host())
	conn, err := a.saveToken(ctx, client, user, *allowHTTP, token)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.out, "Connected to %s as %s; token stored encrypted as %s.\n", conn.Host,
		conn.Username, conn.TokenName)
	if previous.ID != 0 && previous.Username != conn.Username {
		fmt.Fprintf(a.out, "This replaces the token of %s for every organization of %s.\n",
			previous.Username, conn.Host)
	}
	if len(user.Organizations) == 0 {
		fmt.Fprintln(a.out, "The token sees no organizations: add the user to a team of the "+
			"organizations quaykeeper should keep.")
		return nil
	}
	sig := workflows.ConnectSignal{Add: user.Organizations, Actor: actor()}
	if err := a.signalConnection(ctx, conn, workflows.SignalConnect, sig); err != nil {
		return err
	}
	state, err := a.awaitState(ctx, conn.Host, workflows.SignalConnect, "",
		func(s workflows.ConnectionState) bool {
			for _, org := range user.Organizations {
				if !slices.Contains(s.OrgNames(), org) {
					return false
				}
			}
			return true
		})
	if err != nil {
		return err
	}
	fmt.Fprintf(a.out, "Organizations (%d), each synced on its own schedule:\n",
		len(state.Organizations))
	for _, o := range state.Organizations {
		fmt.Fprintf(a.out, "  %-24s %s\n", o.Name, o.Settings.Schedule)
	}
	fmt.Fprintf(a.out, "Next: starter sync --org %s --wait, or starter status\n",
		state.Organizations[0].Name)
	return nil
}

// checkToken reads the token and has Quay accept it: who am I, and one tag read to prove the
// repository permission.
func (a *app) checkToken(ctx context.Context, rawHost string, allowHTTP, stdin bool) (
	*quay.Client, quay.User, string, error) {
	host, err := quay.ParseHost(rawHost, allowHTTP)
	if err != nil {
		return nil, quay.User{}, "", err
	}
	token, err := a.token(stdin)
	if err != nil {
		return nil, quay.User{}, "", err
	}
	client, err := quay.New(quay.Config{Host: host.String(), Token: token, AllowHTTP: allowHTTP})
	if err != nil {
		return nil, quay.User{}, "", err
	}
	user, err := client.WhoAmI(ctx)
	if err != nil {
		return nil, quay.User{}, "", err
	}
	if err := checkRepoRead(ctx, client, user.Organizations); err != nil {
		return nil, quay.User{}, "", err
	}
	return client, user, token, nil
}

// saveToken stores a token Quay accepted for the client's host.
func (a *app) saveToken(ctx context.Context, client *quay.Client, user quay.User,
	allowHTTP bool, token string) (store.Connection, error) {
	box, err := a.box()
	if err != nil {
		return store.Connection{}, err
	}
	st, err := a.openStore(ctx)
	if err != nil {
		return store.Connection{}, err
	}
	return st.SaveConnection(ctx, box, store.NewConnection{
		Host: client.Host(), AllowHTTP: allowHTTP, Username: user.Username,
		TokenName: TokenName(user.Username, time.Now()), Token: token,
	})
}

// token reads the token from standard input or QUAY_TOKEN and checks its form.
func (a *app) token(stdin bool) (string, error) {
	token := a.cfg.QuayToken
	if stdin {
		var err error
		if token, err = readToken(a); err != nil {
			return "", err
		}
	}
	if token == "" {
		return "", errors.New("no token: set QUAY_TOKEN or pipe it with --token-stdin (make " +
			"one in Quay: organization → Applications → your application → Generate Token, " +
			"with \"View all visible repositories\" and \"Read User Information\")")
	}
	return token, quay.ValidateToken(token)
}

// refuseTokenFlag stops a token typed as a flag before flag parsing could echo it.
func refuseTokenFlag(cmd string, args []string) error {
	for _, arg := range args {
		name, _, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		if strings.HasPrefix(arg, "-") && name == "token" {
			return fmt.Errorf("%s: a token is never passed as a flag (argv is visible to "+
				"every user of the machine); set QUAY_TOKEN or use --token-stdin: %w", cmd,
				errUsage)
		}
	}
	return nil
}

// readToken reads one line from standard input.
func readToken(a *app) (string, error) {
	line, err := bufio.NewReader(a.in).ReadString('\n')
	if err != nil && line == "" {
		return "", errors.New("--token-stdin: standard input is empty; pipe the token in, " +
			"e.g. `starter connect --host URL --token-stdin < token-file`")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// checkRepoRead reads one tag page of the first repository the token lists, because a token
// without "View all visible repositories" still lists repositories but cannot read tags.
func checkRepoRead(ctx context.Context, client *quay.Client, orgs []string) error {
	for _, org := range orgs {
		page, err := client.Repositories(ctx, org, "")
		if quay.KindOf(err) == quay.KindEmptyNamespace {
			continue
		}
		if err != nil {
			return err
		}
		if len(page.Repositories) == 0 {
			continue
		}
		_, err = client.Tags(ctx, org, page.Repositories[0].Name, 1)
		if quay.KindOf(err) == quay.KindForbidden {
			return fmt.Errorf("the token can list repositories of %s but not read their tags: "+
				"it lacks \"View all visible repositories\"; generate a new token with it: %w",
				org, err)
		}
		return err
	}
	return nil
}

// TokenName names a stored token after its user and the day it was connected, e.g.
// "quaykeeper-alice-20261204"; it is generated, never typed.
func TokenName(user string, now time.Time) string {
	clean := strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '.' || r == '-' {
			return r
		}
		return '_'
	}, user)
	return "quaykeeper-" + clean + "-" + now.UTC().Format("20060102")
}
