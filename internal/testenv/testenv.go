// Package testenv gives tests the real parts they run against: a fresh PostgreSQL database and
// a Temporal dev server. Neither is ever skipped: when a part is missing the test fails and
// says how to provide it (`make test` provides both).
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"
)

// AdminDatabaseURL is the database the test databases are created from; override it with
// QUAYKEEPER_TEST_DATABASE_URL.
func AdminDatabaseURL() string {
	if u := os.Getenv("QUAYKEEPER_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres"
}

// Database creates an empty database for the test, drops it when the test ends, and returns
// its URL.
func Database(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, AdminDatabaseURL())
	if err != nil {
		t.Fatalf("PostgreSQL is needed at %s (set QUAYKEEPER_TEST_DATABASE_URL, or run "+
			"`make test`, which starts the local server): %v", AdminDatabaseURL(), err)
	}
	defer admin.Close(context.Background())
	name := "quaykeeper_test_" + randomHex(6)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, AdminDatabaseURL())
		if err != nil {
			t.Errorf("drop test database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	cfg := admin.Config()
	return fmt.Sprintf("postgres://%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, name)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// TemporalCLI returns the path of the Temporal CLI that serves as dev server: the
// QUAYKEEPER_TEMPORAL_CLI variable, else bin/temporal at the module root.
func TemporalCLI(t testing.TB) string {
	t.Helper()
	path := os.Getenv("QUAYKEEPER_TEMPORAL_CLI")
	if path == "" {
		root, err := moduleRoot()
		if err != nil {
			t.Fatal(err)
		}
		path = filepath.Join(root, "bin", "temporal")
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the Temporal CLI is needed at %s for the dev server: run `make bin/temporal` "+
			"(make test builds it) or set QUAYKEEPER_TEMPORAL_CLI: %v", path, err)
	}
	return path
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// DevServer starts a Temporal dev server on a free loopback port for the test, with
// quaykeeper's search attributes registered, and stops it when the test ends.
func DevServer(t testing.TB) *testsuite.DevServer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath:  TemporalCLI(t),
		ClientOptions: &client.Options{Namespace: "default", Logger: quietLogger{}},
		LogLevel:      "error",
		Stdout:        io.Discard,
		Stderr:        io.Discard,
		ExtraArgs: []string{"--search-attribute", "QuayHost=Keyword",
			"--search-attribute", "QuayOrganization=Keyword"},
	})
	if err != nil {
		t.Fatalf("start Temporal dev server: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Logf("stop Temporal dev server: %v", err)
		}
	})
	return srv
}

// quietLogger drops the SDK's client logs, which would bury a test's own output.
type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}
