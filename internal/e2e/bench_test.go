package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"

	"quaykeeper/internal/quaysim"
	"quaykeeper/workflows"
)

// BenchmarkFullSync generates an organization (QUAYKEEPER_BENCH_REPOS × QUAYKEEPER_BENCH_TAGS,
// default 1,000 × 200), serves it from the simulator and runs one full sync through a worker
// process, reporting wall time, tags per second, Quay requests, the sync's history events and
// the worker's peak memory. `make bench` runs it once (-benchtime 1x).
func BenchmarkFullSync(b *testing.B) {
	repos, tags := envInt(b, "QUAYKEEPER_BENCH_REPOS", 1000), envInt(b, "QUAYKEEPER_BENCH_TAGS", 200)
	ds := quaysim.Generate(quaysim.GenerateOptions{Organization: "acme", Repositories: repos,
		TagsPerRepo: tags, Seed: 1, Now: time.Now(), Token: token, User: "alice"})
	for range b.N {
		benchOnce(b, ds)
	}
}

func benchOnce(b *testing.B, ds *quaysim.Dataset) {
	b.StopTimer()
	e := newBareEnv(b, ds)
	worker := e.startWorkerProcess()
	e.mustStarter("connect", "--host", e.simURL, "--allow-http")
	e.sim.ResetStats()
	b.StartTimer()
	start := time.Now()
	e.mustStarter("sync", "--org", "acme", "--wait")
	wall := time.Since(start)
	b.StopTimer()

	org, err := e.store.FindOrganization(e.ctx, "acme", "")
	if err != nil {
		b.Fatal(err)
	}
	run, err := e.store.LatestRun(e.ctx, org.ID, "completed")
	if err != nil {
		b.Fatal(err)
	}
	events := e.chainHistoryLength(workflows.WorkflowID(e.simURL, "acme"))
	peak := peakRSS(b, worker.Process.Pid)
	b.ReportMetric(wall.Seconds(), "wall-s")
	b.ReportMetric(float64(run.Tags)/wall.Seconds(), "tags/s")
	b.ReportMetric(float64(run.Tags), "tags")
	b.ReportMetric(float64(e.sim.Stats().Total), "quay-requests")
	b.ReportMetric(float64(events), "history-events")
	b.ReportMetric(float64(peak)/1024, "worker-peak-MiB")
	fmt.Fprintf(os.Stderr, "full sync: %d repositories, %d tags in %s (%.0f tags/s), %d Quay "+
		"requests, %d history events, worker peak RSS %.1f MiB\n", run.Repositories, run.Tags,
		wall.Round(time.Millisecond), float64(run.Tags)/wall.Seconds(), e.sim.Stats().Total,
		events, float64(peak)/1024)
}

// startWorkerProcess builds and starts the real worker binary against the environment, with
// extra NAME=value variables, so its memory is measured alone.
func (e *env) startWorkerProcess(extraEnv ...string) *exec.Cmd {
	e.t.Helper()
	bin := starterBin[:strings.LastIndex(starterBin, "/")] + "/worker"
	if out, err := exec.Command("go", "build", "-o", bin, "quaykeeper/worker").
		CombinedOutput(); err != nil {
		e.t.Fatalf("build worker: %v\n%s", err, out)
	}
	cmd := exec.CommandContext(e.ctx, bin)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+e.dbURL, "TEMPORAL_ADDRESS="+e.address,
		"QUAYKEEPER_TASK_QUEUE="+e.taskQueue, "QUAYKEEPER_SECRET_KEY="+secretKey,
		"QUAYKEEPER_LOG_LEVEL=warn", "QUAYKEEPER_WEB_ADDR=",
		"QUAYKEEPER_METRICS_ADDR=")
	cmd.Env = append(cmd.Env, extraEnv...)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		e.t.Fatalf("start worker: %v", err)
	}
	e.t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
		if e.t.Failed() {
			e.t.Logf("worker log:\n%s", logs.String())
		}
	})
	return cmd
}

// chainHistoryLength counts the events of every execution of a workflow ID, following
// continue-as-new.
func (e *env) chainHistoryLength(id string) int {
	e.t.Helper()
	resp, err := e.temporal.ListWorkflow(e.ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Query: fmt.Sprintf("WorkflowId = %q", id)})
	if err != nil {
		e.t.Fatal(err)
	}
	total := 0
	for _, exec := range resp.Executions {
		it := e.temporal.GetWorkflowHistory(e.ctx, id, exec.Execution.RunId, false, 0)
		for it.HasNext() {
			if _, err := it.Next(); err != nil {
				e.t.Fatal(err)
			}
			total++
		}
	}
	return total
}

// peakRSS reads a process's peak resident set size in KiB from /proc.
func peakRSS(b *testing.B, pid int) int {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(rest, "kB")))
			return kb
		}
	}
	return 0
}

func envInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}
