package store

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// attrRows counts the rows a statement wrote or returned, as PostgreSQL's command tag
// reports them (semantic conventions name only returned rows).
const attrRows = attribute.Key("quaykeeper.db.rows")

// tracer makes OpenTelemetry spans for the store's statements: one per query, one per
// batch and one per COPY. It traces only inside a traced operation (an activity, say), so
// migrations and pool housekeeping make no root spans. A span holds the SQL with its
// placeholders, never the arguments, which carry sealed tokens and registry data; a
// failure is described by its SQLSTATE code alone, since PostgreSQL's messages quote
// values.
type tracer struct {
	tracer trace.Tracer
}

var (
	_ pgx.QueryTracer    = (*tracer)(nil)
	_ pgx.BatchTracer    = (*tracer)(nil)
	_ pgx.CopyFromTracer = (*tracer)(nil)
)

// newTracer returns a tracer whose spans go to tp. Given the global provider before
// telemetry is set up, it follows the provider installed later.
func newTracer(tp trace.TracerProvider) *tracer {
	return &tracer{tracer: tp.Tracer("quaykeeper/internal/store")}
}

// start begins a client span below the context's span; ok is false, and ctx is returned
// as it is, when there is none.
func (t *tracer) start(ctx context.Context, conn *pgx.Conn, name string,
	attrs ...attribute.KeyValue) (_ context.Context, ok bool) {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ctx, false
	}
	attrs = append(attrs, semconv.DBSystemNamePostgreSQL)
	if conn != nil {
		cfg := conn.Config()
		attrs = append(attrs, semconv.DBNamespace(cfg.Database),
			semconv.ServerAddress(cfg.Host), semconv.ServerPort(int(cfg.Port)))
	}
	ctx, _ = t.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attrs...))
	return ctx, true
}

// end ends the span that start began, if it began one.
func end(ctx context.Context, rows int64, err error) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	if err != nil {
		kind := errorType(err)
		span.SetAttributes(semconv.ErrorTypeKey.String(kind))
		span.SetStatus(codes.Error, kind)
	} else {
		span.SetAttributes(attrRows.Int64(rows))
	}
	span.End()
}

// TraceQueryStart implements pgx.QueryTracer.
func (t *tracer) TraceQueryStart(ctx context.Context, conn *pgx.Conn,
	data pgx.TraceQueryStartData) context.Context {
	attrs := []attribute.KeyValue{semconv.DBQueryText(data.SQL)}
	// Semantic conventions name a span without an operation after the database system.
	name := "postgresql"
	if op := operation(data.SQL); op != "" {
		name = op
		attrs = append(attrs, semconv.DBOperationName(op))
	}
	ctx, _ = t.start(ctx, conn, name, attrs...)
	return ctx
}

// TraceQueryEnd implements pgx.QueryTracer.
func (t *tracer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryEndData) {
	end(ctx, data.CommandTag.RowsAffected(), data.Err)
}

// batchKey carries a traced batch's rows and its first statement's failure to
// TraceBatchEnd.
type batchKey struct{}

type batchState struct {
	rows int64
	err  error
}

// TraceBatchStart implements pgx.BatchTracer. The span is named after the batch's
// operation, e.g. "BATCH INSERT", when all its statements share one.
func (t *tracer) TraceBatchStart(ctx context.Context, conn *pgx.Conn,
	data pgx.TraceBatchStartData) context.Context {
	op := ""
	for i, q := range data.Batch.QueuedQueries {
		if o := operation(q.SQL); i == 0 {
			op = o
		} else if o != op {
			op = ""
			break
		}
	}
	name := strings.TrimSpace("BATCH " + op)
	ctx, ok := t.start(ctx, conn, name, semconv.DBOperationName(name),
		semconv.DBOperationBatchSize(data.Batch.Len()))
	if !ok {
		return ctx
	}
	return context.WithValue(ctx, batchKey{}, &batchState{})
}

// TraceBatchQuery implements pgx.BatchTracer.
func (t *tracer) TraceBatchQuery(ctx context.Context, _ *pgx.Conn,
	data pgx.TraceBatchQueryData) {
	st, ok := ctx.Value(batchKey{}).(*batchState)
	if !ok {
		return
	}
	st.rows += data.CommandTag.RowsAffected()
	if st.err == nil {
		st.err = data.Err
	}
}

// TraceBatchEnd implements pgx.BatchTracer.
func (t *tracer) TraceBatchEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceBatchEndData) {
	st, ok := ctx.Value(batchKey{}).(*batchState)
	if !ok {
		return
	}
	err := data.Err
	if err == nil {
		err = st.err
	}
	end(ctx, st.rows, err)
}

// TraceCopyFromStart implements pgx.CopyFromTracer.
func (t *tracer) TraceCopyFromStart(ctx context.Context, conn *pgx.Conn,
	data pgx.TraceCopyFromStartData) context.Context {
	table := strings.Join(data.TableName, ".")
	ctx, _ = t.start(ctx, conn, "COPY "+table, semconv.DBOperationName("COPY"),
		semconv.DBCollectionName(table))
	return ctx
}

// TraceCopyFromEnd implements pgx.CopyFromTracer.
func (t *tracer) TraceCopyFromEnd(ctx context.Context, _ *pgx.Conn,
	data pgx.TraceCopyFromEndData) {
	end(ctx, data.CommandTag.RowsAffected(), data.Err)
}

// operation is the statement's first keyword, upper-cased: SELECT, INSERT, WITH, ...
func operation(sql string) string {
	sql = strings.TrimSpace(sql)
	if i := strings.IndexFunc(sql, func(r rune) bool {
		return r == ' ' || r == '\n' || r == '\t' || r == '(' || r == ';'
	}); i >= 0 {
		sql = sql[:i]
	}
	return strings.ToUpper(sql)
}

// errorType names a failure without its message: the SQLSTATE code of a PostgreSQL error,
// or what ended the statement.
func errorType(err error) string {
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr):
		return pgErr.Code
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	}
	return "_OTHER"
}
