package telemetry

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"quaykeeper/internal/quay"
)

// TestTemporalSpansNestQuayCalls runs a workflow whose activity calls Quay through Setup's
// interceptor and observer: the Quay span must hang below the activity's span, in the
// workflow's trace.
func TestTemporalSpansNestQuayCalls(t *testing.T) {
	noExporters(t)
	t.Setenv("OTEL_TRACES_EXPORTER", "none")
	tel := setup(t, Options{ServiceName: "quaykeeper-test"})
	spans := tracetest.NewSpanRecorder()
	tel.TracerProvider.RegisterSpanProcessor(spans)

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"username": "alice", "organizations": []}`))
	}))
	t.Cleanup(srv.Close)
	client, err := quay.New(quay.Config{Host: srv.URL, Token: quayToken, AllowHTTP: true,
		Observer: tel.QuayObserver})
	if err != nil {
		t.Fatal(err)
	}
	checkAccess := func(ctx context.Context) error {
		_, err := client.WhoAmI(ctx)
		return err
	}
	sync := func(ctx workflow.Context) error {
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout: 10 * time.Second})
		return workflow.ExecuteActivity(ctx, "CheckAccess").Get(ctx, nil)
	}

	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(tlog.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	env := suite.NewTestWorkflowEnvironment()
	env.SetWorkerOptions(worker.Options{
		Interceptors: []interceptor.WorkerInterceptor{tel.Interceptor}})
	env.RegisterWorkflowWithOptions(sync, workflow.RegisterOptions{Name: "OrganizationSync"})
	env.RegisterActivityWithOptions(checkAccess, activity.RegisterOptions{Name: "CheckAccess"})
	env.ExecuteWorkflow("OrganizationSync")
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("workflow: %v", err)
	}

	byName := map[string]int{}
	ended := spans.Ended()
	for i, s := range ended {
		byName[s.Name()] = i
	}
	chain := []string{"RunWorkflow:OrganizationSync", "StartActivity:CheckAccess",
		"RunActivity:CheckAccess", "quay GET /api/v1/user/"}
	for i, name := range chain {
		j, ok := byName[name]
		if !ok {
			t.Fatalf("no span %q among %v", name, byName)
		}
		if i == 0 {
			continue
		}
		parent := ended[byName[chain[i-1]]]
		if ended[j].Parent().SpanID() != parent.SpanContext().SpanID() ||
			ended[j].SpanContext().TraceID() != parent.SpanContext().TraceID() {
			t.Errorf("span %q is not a child of %q", name, chain[i-1])
		}
	}
}
