package tracing

import (
	"context"
	"encoding/binary"
	"math/rand/v2"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"
)

// lightProvider is the TracerProvider Setup installs when spans would be
// sent nowhere. Its spans record nothing, but each has a span id of its
// own in its parent's trace (or in a new sampled trace), with the flags and
// tracestate the SDK's default sampler (parent-based, always on) would give
// it: the traceparent a backend, an event's metadata or a log line sees is
// made exactly as with the SDK's provider, without building a span (its
// attributes, its clock readings, its locks) only to drop it at End.
type lightProvider struct{ embedded.TracerProvider }

func (lightProvider) Tracer(string, ...trace.TracerOption) trace.Tracer { return lightTracer{} }

type lightTracer struct{ embedded.Tracer }

// Start returns ctx carrying a non-recording span that is a child of the
// span in ctx (unless the options ask for a new root).
func (lightTracer) Start(ctx context.Context, _ string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	var parent trace.SpanContext
	if len(opts) == 0 || !newRoot(opts) {
		parent = trace.SpanContextFromContext(ctx)
	}
	ctx = trace.ContextWithSpanContext(ctx, childOf(parent))
	return ctx, trace.SpanFromContext(ctx)
}

func newRoot(opts []trace.SpanStartOption) bool {
	cfg := trace.NewSpanStartConfig(opts...)
	return cfg.NewRoot()
}

// childOf is the span context of a new span under parent: parent's trace,
// flags and tracestate with a new span id, or a new sampled trace when
// parent has no trace id.
func childOf(parent trace.SpanContext) trace.SpanContext {
	cfg := trace.SpanContextConfig{SpanID: newSpanID()}
	if parent.TraceID().IsValid() {
		cfg.TraceID, cfg.TraceFlags, cfg.TraceState = parent.TraceID(), parent.TraceFlags(), parent.TraceState()
		if !parent.IsValid() { // no usable parent span: a root, as the SDK's sampler decides
			cfg.TraceFlags |= trace.FlagsSampled
		}
	} else {
		cfg.TraceID, cfg.TraceFlags = newTraceID(), trace.FlagsSampled
	}
	return trace.NewSpanContext(cfg)
}

// The ids come from the runtime's per-thread generator: random, never
// zero, and without the lock the SDK's shared generator takes. Like the
// SDK's (math/rand too), they need to be unique, not unpredictable.
func newTraceID() (id trace.TraceID) {
	for !id.IsValid() {
		binary.BigEndian.PutUint64(id[:8], rand.Uint64()) //nolint:gosec // ids, not secrets
		binary.BigEndian.PutUint64(id[8:], rand.Uint64()) //nolint:gosec // ids, not secrets
	}
	return id
}

func newSpanID() (id trace.SpanID) {
	for !id.IsValid() {
		binary.BigEndian.PutUint64(id[:], rand.Uint64()) //nolint:gosec // ids, not secrets
	}
	return id
}

// light reports whether the process's provider is the light one, so the
// HTTP middleware and transport can skip the attributes nobody records.
func light() bool {
	_, ok := otel.GetTracerProvider().(lightProvider)
	return ok
}
