package store

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"quaykeeper/internal/testenv"
)

// sealedValue stands for a statement argument that must never reach a span.
const sealedValue = "qkSEALEDtoken0123456789SECRET"

// tracedPool connects to a fresh database with the tracer installed as store.Open does.
func tracedPool(t *testing.T) (*pgxpool.Pool, *tracetest.SpanRecorder, trace.Tracer) {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(testenv.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	cfg.ConnConfig.Tracer = newTracer(tp)
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool, rec, tp.Tracer("test")
}

func spanAttrs(s sdktrace.ReadOnlySpan) map[attribute.Key]string {
	m := map[attribute.Key]string{}
	for _, kv := range s.Attributes() {
		m[kv.Key] = kv.Value.String()
	}
	return m
}

func TestTracerSpans(t *testing.T) {
	pool, rec, tracer := tracedPool(t)
	ctx := context.Background()
	// Outside a traced operation nothing is traced, as during migrations.
	_, err := pool.Exec(ctx, `CREATE TABLE items (name text PRIMARY KEY, secret text)`)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(rec.Ended()); n != 0 {
		t.Fatalf("%d spans without a parent span, want none", n)
	}

	ctx, parent := tracer.Start(ctx, "SaveTags")
	batch := &pgx.Batch{}
	for _, name := range []string{"a", "b", "c"} {
		batch.Queue(`INSERT INTO items (name, secret) VALUES ($1, $2)`, name, sealedValue)
	}
	if err := pool.SendBatch(ctx, batch).Close(); err != nil {
		t.Fatal(err)
	}
	rows := [][]any{{"d", sealedValue}, {"e", sealedValue}}
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{"items"}, []string{"name", "secret"},
		pgx.CopyFromRows(rows)); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM items WHERE secret = $1`,
		sealedValue).Scan(&n); err != nil || n != 5 {
		t.Fatalf("count: %d, %v", n, err)
	}
	failing := &pgx.Batch{}
	failing.Queue(`UPDATE items SET secret = $1 WHERE name = 'a'`, sealedValue)
	failing.Queue(`INSERT INTO items (name, secret) VALUES ('a', $1)`, sealedValue)
	if err := pool.SendBatch(ctx, failing).Close(); err == nil {
		t.Fatal("a duplicate key was accepted")
	}
	parent.End()

	type want struct {
		name  string
		attrs map[attribute.Key]string
		code  codes.Code
	}
	wants := []want{
		{"BATCH INSERT", map[attribute.Key]string{"db.operation.name": "BATCH INSERT",
			"db.operation.batch.size": "3", "quaykeeper.db.rows": "3"}, codes.Unset},
		{"COPY items", map[attribute.Key]string{"db.operation.name": "COPY",
			"db.collection.name": "items", "quaykeeper.db.rows": "2"}, codes.Unset},
		{"SELECT", map[attribute.Key]string{"db.operation.name": "SELECT",
			"db.query.text": `SELECT count(*) FROM items WHERE secret = $1`}, codes.Unset},
		{"BATCH", map[attribute.Key]string{"db.operation.batch.size": "2",
			"error.type": "23505"}, codes.Error},
	}
	ended := rec.Ended()
	if len(ended) != len(wants)+1 {
		t.Fatalf("%d spans, want %d and their parent", len(ended), len(wants))
	}
	for i, w := range wants {
		s := ended[i]
		if s.Name() != w.name || s.Parent().SpanID() != parent.SpanContext().SpanID() ||
			s.SpanKind() != trace.SpanKindClient {
			t.Errorf("span %d: %q (kind %v), want %q as a client child of the parent", i,
				s.Name(), s.SpanKind(), w.name)
		}
		got := spanAttrs(s)
		w.attrs["db.system.name"] = "postgresql"
		for k, v := range w.attrs {
			if got[k] != v {
				t.Errorf("span %q: %s = %q, want %q", w.name, k, got[k], v)
			}
		}
		if got["db.namespace"] == "" || got["server.address"] == "" {
			t.Errorf("span %q does not name the database and server: %v", w.name, got)
		}
		if s.Status().Code != w.code {
			t.Errorf("span %q has status %v, want %v", w.name, s.Status(), w.code)
		}
	}
	recorded, err := json.Marshal(tracetest.SpanStubsFromReadOnlySpans(ended))
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{sealedValue, "duplicate key"} {
		if strings.Contains(string(recorded), leak) {
			t.Errorf("the spans contain %q", leak)
		}
	}
}

func TestOperation(t *testing.T) {
	tests := []struct{ sql, want string }{
		{"SELECT 1", "SELECT"},
		{"\n\t  insert into t VALUES ($1)", "INSERT"},
		{"WITH x AS (SELECT 1) SELECT * FROM x", "WITH"},
		{"(SELECT 1)", ""},
		{"begin;", "BEGIN"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.sql, func(t *testing.T) {
			if got := operation(tt.sql); got != tt.want {
				t.Errorf("operation(%q) = %q, want %q", tt.sql, got, tt.want)
			}
		})
	}
}
