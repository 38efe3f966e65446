package tracing

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/trace"
)

// Log attribute names added to records written with a context.
const (
	LogTraceID       = "trace_id"
	LogSpanID        = "span_id"
	LogCorrelationID = "correlation_id"
)

// LogHandler wraps h so every record logged with a context (the slog
// ...Context methods) names the span in it (trace_id, span_id) and the
// correlation id of the request or event being handled (correlation_id),
// each only when known. A logger that opened a group with WithGroup puts
// them inside that group.
func LogHandler(h slog.Handler) slog.Handler { return logHandler{h} }

type logHandler struct{ slog.Handler }

func (h logHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String(LogTraceID, sc.TraceID().String()), slog.String(LogSpanID, sc.SpanID().String()))
	}
	if id := CorrelationID(ctx); id != "" {
		r.AddAttrs(slog.String(LogCorrelationID, id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return logHandler{h.Handler.WithAttrs(attrs)}
}

func (h logHandler) WithGroup(name string) slog.Handler { return logHandler{h.Handler.WithGroup(name)} }
