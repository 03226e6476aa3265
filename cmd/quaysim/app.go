package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"quaykeeper/internal/quaysim"
)

const usageHead = `quaysim serves a simulated Quay REST API v1 (the endpoints a registry
inventory reads) from a dataset file, or generates such a file.

Usage:
  quaysim --data FILE [serve flags]
  quaysim generate --out FILE [generate flags]

`

const generateTail = `Without --token-file, generate creates a random 40-character token,
puts it in the dataset and writes it alone to FILE.token (mode 0600), so it never appears in
argv or in the output. With --token-file the token is read from that file instead. The dataset
holds the token too, so it is written with mode 0600.
`

// run is the whole command; main only wires up signals and the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	serveFlags, sc := serveFlagSet()
	genFlags, gc := generateFlagSet()
	usage := func() {
		fmt.Fprint(stderr, usageHead)
		printFlags(stderr, "Serve flags:", serveFlags)
		printFlags(stderr, "Generate flags:", genFlags)
		fmt.Fprint(stderr, generateTail)
	}
	serveFlags.Usage, genFlags.Usage = usage, usage

	var err error
	if len(args) > 0 && args[0] == "generate" {
		if err = parse(genFlags, args[1:]); err == nil {
			err = generate(gc, stdout)
		}
	} else if err = parse(serveFlags, args); err == nil {
		err = serve(ctx, sc, stderr)
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		fmt.Fprintln(stderr, "quaysim:", err)
		return 1
	}
	return 0
}

// parse parses flags and points at --help when they are wrong; ErrHelp passes through.
func parse(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		return fmt.Errorf("%w (run quaysim --help for the flags)", err)
	}
	if err == nil && fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (run quaysim --help for the flags)", fs.Arg(0))
	}
	return err
}

// shutdownGrace is how long in-flight requests get to finish after SIGINT or SIGTERM.
const shutdownGrace = 5 * time.Second

type serveConfig struct {
	data, listen       string
	rateLimit, errRate float64
	retryAfter         int
	latency            time.Duration
	seed               uint64
}

func serveFlagSet() (*flag.FlagSet, *serveConfig) {
	c := &serveConfig{}
	fs := flag.NewFlagSet("quaysim", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.data, "data", "", "dataset `FILE` to serve (required)")
	fs.StringVar(&c.listen, "listen", "127.0.0.1:8480", "`ADDR` to listen on")
	fs.Float64Var(&c.rateLimit, "rate-limit-rate", 0,
		"fraction `F` of requests answered 429 with nginx's HTML page")
	fs.IntVar(&c.retryAfter, "retry-after", 0,
		"`S` seconds of Retry-After on 429s; 0 sends none, like nginx")
	fs.Float64Var(&c.errRate, "error-rate", 0,
		"fraction `F` of requests answered 500, 502 or 503 (520 on security)")
	fs.DurationVar(&c.latency, "latency", 0, "duration `D` added to every request, e.g. 50ms")
	fs.Uint64Var(&c.seed, "seed", 0, "`N` seeds the fault pattern")
	return fs, c
}

func serve(ctx context.Context, c *serveConfig, stderr io.Writer) error {
	if c.data == "" {
		return errors.New("--data is required (create a dataset with: quaysim generate --out FILE)")
	}
	for name, rate := range map[string]float64{"--rate-limit-rate": c.rateLimit,
		"--error-rate": c.errRate} {
		if rate < 0 || rate > 1 {
			return fmt.Errorf("%s %v is not a fraction between 0 and 1", name, rate)
		}
	}
	if c.retryAfter < 0 || c.latency < 0 {
		return errors.New("--retry-after and --latency cannot be negative")
	}
	ds, err := quaysim.LoadDataset(c.data)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	sim := quaysim.New(ds, quaysim.Options{Faults: quaysim.Faults{
		RateLimitRate: c.rateLimit, RetryAfter: time.Duration(c.retryAfter) * time.Second,
		ServerErrorRate: c.errRate, Latency: c.latency, Seed: c.seed,
	}})
	ln, err := net.Listen("tcp", c.listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.listen, err)
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	repos := 0
	for _, o := range ds.Organizations {
		repos += len(o.Repositories)
	}
	log.Info("serving", "addr", ln.Addr().String(), "dataset", c.data,
		"organizations", len(ds.Organizations), "repositories", repos,
		"tokens", len(ds.Tokens), "rateLimitRate", c.rateLimit, "errorRate", c.errRate,
		"latency", c.latency)

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	stats := sim.Stats()
	log.Info("stopped", "requests", stats.Total)
	return nil
}

type generateConfig struct {
	out, org, now, user, tokenFile string
	repos, tags                    int
	seed                           uint64
	dormant                        float64
}

func generateFlagSet() (*flag.FlagSet, *generateConfig) {
	c := &generateConfig{}
	fs := flag.NewFlagSet("quaysim generate", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.out, "out", "", "dataset `FILE` to write (required)")
	fs.StringVar(&c.org, "org", "acme", "organization `NAME`")
	fs.IntVar(&c.repos, "repos", 20, "`N` repositories")
	fs.IntVar(&c.tags, "tags", 40, "`M` tag rows per repository, alive and history together")
	fs.Uint64Var(&c.seed, "seed", 0, "`N` seeds the dataset; the same flags give the same dataset")
	fs.StringVar(&c.now, "now", "", "end of the generated history as `RFC3339` (default: now)")
	fs.StringVar(&c.user, "user", "alice", "`NAME` of the user owning the token")
	fs.Float64Var(&c.dormant, "dormant", quaysim.DefaultDormantFraction,
		"share `F` of repositories with no push in the last eight months")
	fs.StringVar(&c.tokenFile, "token-file", "", "read the token from file `F` (see below)")
	return fs, c
}

func generate(c *generateConfig, stdout io.Writer) error {
	if c.out == "" {
		return errors.New("--out is required")
	}
	opts := quaysim.GenerateOptions{Organization: c.org, Repositories: c.repos,
		TagsPerRepo: c.tags, Seed: c.seed, User: c.user, DormantFraction: c.dormant,
		Now: time.Now().UTC().Truncate(time.Second)}
	if c.now != "" {
		now, err := time.Parse(time.RFC3339, c.now)
		if err != nil {
			return fmt.Errorf("--now %q is not RFC 3339 (e.g. 2025-01-31T12:00:00Z)", c.now)
		}
		opts.Now = now
	}
	tokenOut := ""
	if c.tokenFile != "" {
		raw, err := os.ReadFile(c.tokenFile)
		if err != nil {
			return fmt.Errorf("read token: %w", err)
		}
		opts.Token = strings.TrimSpace(string(raw))
	} else {
		opts.Token = randomToken()
		tokenOut = c.out + ".token"
	}
	ds := quaysim.Generate(opts)
	if err := ds.Validate(); err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	if err := ds.Write(c.out); err != nil {
		return err
	}
	rows := 0
	for _, r := range ds.Organizations[0].Repositories {
		rows += len(r.Tags)
	}
	fmt.Fprintf(stdout, "wrote %s: organization %s, %d repositories, %d tag rows\n",
		c.out, c.org, len(ds.Organizations[0].Repositories), rows)
	if tokenOut != "" {
		if err := os.WriteFile(tokenOut, []byte(opts.Token+"\n"), 0o600); err != nil {
			return fmt.Errorf("write token: %w", err)
		}
		fmt.Fprintf(stdout, "wrote the token of user %s to %s\n", c.user, tokenOut)
	}
	return nil
}

// randomToken returns 40 random alphanumerics, the shape of a Quay OAuth token.
func randomToken() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	out := make([]byte, 0, 40)
	buf := make([]byte, 64)
	for len(out) < cap(out) {
		_, _ = rand.Read(buf)
		for _, b := range buf {
			// Rejecting bytes above the largest multiple of 62 keeps the choice uniform.
			if b < 248 && len(out) < cap(out) {
				out = append(out, alphabet[b%62])
			}
		}
	}
	return string(out)
}

// printFlags lists a flag set in the --name VALUE form the usage line uses.
func printFlags(w io.Writer, title string, fs *flag.FlagSet) {
	fmt.Fprintln(w, title)
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if name != "" {
			line += " " + name
		}
		if f.DefValue != "" && f.DefValue != "0" && f.DefValue != "0s" {
			usage += " (default " + f.DefValue + ")"
		}
		fmt.Fprintf(w, "%-28s %s\n", line, usage)
	})
	fmt.Fprintln(w)
}
