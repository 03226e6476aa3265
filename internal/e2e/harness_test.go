// Package e2e runs quaykeeper end to end: the real starter binary against a real Temporal dev
// server, PostgreSQL and the Quay simulator, with the worker in the test process.
package e2e

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"quaykeeper/activities"
	"quaykeeper/internal/quaysim"
	"quaykeeper/internal/report"
	"quaykeeper/internal/secret"
	"quaykeeper/internal/store"
	"quaykeeper/internal/testenv"
	"quaykeeper/workflows"
)

var starterBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "quaykeeper-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	starterBin = filepath.Join(dir, "starter")
	build := exec.Command("go", "build", "-o", starterBin, "quaykeeper/starter")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build starter:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const secretKey = "0101010101010101010101010101010101010101010101010101010101010101"

// env is one end-to-end environment: its own database, dev server, simulator and worker.
type env struct {
	t         testing.TB
	ctx       context.Context
	dbURL     string
	store     *store.Store
	temporal  client.Client
	address   string
	taskQueue string
	sim       *quaysim.Server
	simURL    string
	token     string
	// wrap, when set, may answer a request instead of the simulator.
	wrap func(w http.ResponseWriter, r *http.Request) bool
}

func newEnv(t *testing.T, ds *quaysim.Dataset) *env {
	t.Helper()
	e := newBareEnv(t, ds)
	key, _ := hex.DecodeString(secretKey)
	box, err := secret.NewBox(key)
	require.NoError(t, err)
	w := worker.New(e.temporal, e.taskQueue, worker.Options{})
	workflows.Register(w, &activities.Activities{Store: e.store, Box: box,
		Temporal: e.temporal, TaskQueue: e.taskQueue,
		QuayTimeout: 10 * time.Second, QuayMinBackoff: 5 * time.Millisecond,
		QuayMaxBackoff: 50 * time.Millisecond})
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
	return e
}

// newBareEnv starts everything but a worker.
func newBareEnv(t testing.TB, ds *quaysim.Dataset) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	e := &env{t: t, ctx: ctx, dbURL: testenv.Database(t), taskQueue: "quaykeeper-e2e",
		token: ds.Tokens[0].Token}
	st, err := store.Open(ctx, e.dbURL, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(st.Close)
	e.store = st

	e.sim = quaysim.New(ds, quaysim.Options{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e.wrap != nil && e.wrap(w, r) {
			return
		}
		e.sim.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	e.simURL = srv.URL

	dev := testenv.DevServer(t)
	e.temporal = dev.Client()
	e.address = dev.FrontendHostPort()
	return e
}

// starter runs the starter binary with the environment's configuration and returns its
// standard output, standard error and exit code.
func (e *env) starter(stdin string, args ...string) (string, string, int) {
	e.t.Helper()
	cmd := exec.CommandContext(e.ctx, starterBin, args...)
	cmd.Env = append(os.Environ(),
		"DATABASE_URL="+e.dbURL,
		"TEMPORAL_ADDRESS="+e.address,
		"QUAYKEEPER_TASK_QUEUE="+e.taskQueue,
		"QUAYKEEPER_SECRET_KEY="+secretKey,
		"QUAY_TOKEN="+e.token,
	)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else if err != nil {
		e.t.Fatalf("run starter %v: %v", args, err)
	}
	return out.String(), errOut.String(), code
}

// mustStarter runs the starter and fails the test unless it exits 0.
func (e *env) mustStarter(args ...string) string {
	e.t.Helper()
	out, errOut, code := e.starter("", args...)
	require.Equal(e.t, 0, code, "starter %v\nstdout:\n%s\nstderr:\n%s", args, out, errOut)
	return out
}

func (e *env) connect() {
	e.t.Helper()
	e.mustStarter("connect", "--host", e.simURL, "--allow-http")
}

func (e *env) report(org string, args ...string) report.Report {
	e.t.Helper()
	out := e.mustStarter(append([]string{"report", "--org", org, "--format", "json"},
		args...)...)
	var r report.Report
	require.NoError(e.t, json.Unmarshal([]byte(out), &r), out)
	return r
}

// decisionsByTag indexes a report's rows as "repository:tag" → "decision reason,reason".
func decisionsByTag(r report.Report) map[string]string {
	m := make(map[string]string, len(r.Decisions))
	for _, d := range r.Decisions {
		m[d.Repository+":"+d.Tag] = d.Decision + " " + strings.Join(d.Reasons, ",")
	}
	return m
}

// historyLength counts the events of the workflow's latest run.
func (e *env) historyLength(id string) int {
	e.t.Helper()
	it := e.temporal.GetWorkflowHistory(e.ctx, id, "", false, 0)
	n := 0
	for it.HasNext() {
		_, err := it.Next()
		require.NoError(e.t, err)
		n++
	}
	return n
}
