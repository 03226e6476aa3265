package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"quaykeeper/internal/quaysim"
)

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test to share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestGenerateWritesDatasetAndToken(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "ds.json")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"generate", "--out", out, "--repos", "5",
		"--tags", "12", "--seed", "9", "--now", "2025-06-01T00:00:00Z"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	ds, err := quaysim.LoadDataset(out)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(ds.Organizations[0].Repositories); n != 5 {
		t.Errorf("%d repositories, want 5", n)
	}
	raw, err := os.ReadFile(out + ".token")
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(raw))
	if !regexp.MustCompile(`^[A-Za-z0-9]{40}$`).MatchString(token) ||
		ds.Tokens[0].Token != token {
		t.Errorf("token file does not hold the dataset's 40-character token")
	}
	for _, f := range []string{out, out + ".token"} {
		if info, _ := os.Stat(f); info.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", f, info.Mode().Perm())
		}
	}
	if strings.Contains(stdout.String()+stderr.String(), token) {
		t.Errorf("the token was printed")
	}

	tokenFile := filepath.Join(dir, "given")
	if err := os.WriteFile(tokenFile, []byte("given0000000000000000000000000000000000000\n"),
		0o600); err != nil {
		t.Fatal(err)
	}
	out2 := filepath.Join(dir, "ds2.json")
	if code := run(context.Background(), []string{"generate", "--out", out2, "--token-file",
		tokenFile, "--now", "2025-06-01T00:00:00Z"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	ds2, err := quaysim.LoadDataset(out2)
	if err != nil {
		t.Fatal(err)
	}
	if ds2.Tokens[0].Token != "given0000000000000000000000000000000000000" {
		t.Errorf("--token-file was not used")
	}
	if _, err := os.Stat(out2 + ".token"); err == nil {
		t.Errorf("a token file was written although --token-file was given")
	}
}

func TestUsageAndErrors(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--help"}, 0, "--rate-limit-rate F"},
		{[]string{"generate", "--help"}, 0, "--token-file F"},
		{[]string{}, 1, "--data is required"},
		{[]string{"--bogus"}, 1, "run quaysim --help"},
		{[]string{"generate"}, 1, "--out is required"},
		{[]string{"generate", "--out", "x", "--now", "yesterday"}, 1, "is not RFC 3339"},
		{[]string{"--data", "/nonexistent/ds.json"}, 1, "load dataset"},
		{[]string{"--data", "x", "extra"}, 1, `unexpected argument "extra"`},
		{[]string{"--data", "x", "--error-rate", "1.5"}, 1, "not a fraction between 0 and 1"},
		{[]string{"--data", "x", "--latency", "-1s"}, 1, "cannot be negative"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, &stdout, &stderr)
			if code != tt.code || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr.String(), tt.code,
					tt.want)
			}
		})
	}
}

// TestServe starts the server on a free loopback port, calls it, and stops it the way a
// signal would.
func TestServe(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "ds.json")
	var discard bytes.Buffer
	if code := run(context.Background(), []string{"generate", "--out", data, "--repos", "3",
		"--now", "2025-06-01T00:00:00Z"}, &discard, &discard); code != 0 {
		t.Fatalf("generate failed: %s", discard.String())
	}
	rawToken, _ := os.ReadFile(data + ".token")
	token := strings.TrimSpace(string(rawToken))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs := &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--data", data, "--listen", "127.0.0.1:0",
			"--rate-limit-rate", "0"}, &discard, logs)
	}()
	addr := waitForAddr(t, logs)

	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/api/v1/user/", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var user struct{ Username string }
	err = json.NewDecoder(resp.Body).Decode(&user)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || user.Username != "alice" {
		t.Fatalf("GET /api/v1/user/: %d %+v %v", resp.StatusCode, user, err)
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d after shutdown: %s", code, logs.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("server did not stop within 10s of the signal")
	}
	if out := logs.String(); strings.Contains(out, token) || !strings.Contains(out, "msg=stopped") {
		t.Errorf("logs = %s; want a stop line and no token", out)
	}
}

var addrPattern = regexp.MustCompile(`msg=serving addr=(127\.0\.0\.1:\d+)`)

func waitForAddr(t *testing.T, logs *syncBuffer) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := addrPattern.FindStringSubmatch(logs.String()); m != nil {
			return m[1]
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("server did not log its address: %s", logs.String())
	return ""
}
