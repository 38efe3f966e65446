package tracing

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/ordo-platform/ordo/pkg/es"
)

// Attributes of a consumer span beyond the semantic conventions' own.
const (
	AttrEventType     = attribute.Key("ordo.event.type")
	AttrEventStream   = attribute.Key("ordo.event.stream")
	AttrEventPosition = attribute.Key("ordo.event.position")
	AttrCorrelationID = attribute.Key("ordo.correlation_id")
)

// StartConsumer starts the span of handler handling the delivered event e:
// a consumer span whose parent is the span that appended e (the traceparent
// in e's metadata), so the asynchronous hop stays in the request's trace.
// An event without a valid traceparent starts a new trace. The returned
// context also carries e's correlation id for the logs. The caller ends
// the span.
func StartConsumer(ctx context.Context, handler string, e es.Event) (context.Context, trace.Span) {
	if light() { // nothing records: skip the attributes
		ctx = WithCorrelationID(ctx, e.Metadata.CorrelationID)
		if parent := parse(e.Metadata.TraceParent); parent.IsValid() {
			return lightTracer{}.Start(trace.ContextWithRemoteSpanContext(ctx, parent), "")
		}
		return lightTracer{}.Start(ctx, "", trace.WithNewRoot())
	}
	opts := []trace.SpanStartOption{
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(
			semconv.MessagingOperationTypeProcess,
			semconv.MessagingMessageID(e.ID.String()),
			AttrEventType.String(e.Type),
			AttrEventStream.String(e.StreamID),
			AttrEventPosition.String(e.Position.String()),
			AttrCorrelationID.String(e.Metadata.CorrelationID),
		),
	}
	if parent := parse(e.Metadata.TraceParent); parent.IsValid() {
		ctx = trace.ContextWithRemoteSpanContext(ctx, parent)
	} else {
		opts = append(opts, trace.WithNewRoot())
	}
	ctx = WithCorrelationID(ctx, e.Metadata.CorrelationID)
	return tracer().Start(ctx, handler+" "+e.Type, opts...)
}

// Handler wraps a subscription's handler so each delivered event is
// handled inside its own consumer span (StartConsumer); a handler error
// marks the span failed.
func Handler(name string, h es.Handler) es.Handler {
	return func(ctx context.Context, e es.Event) error {
		ctx, span := StartConsumer(ctx, name, e)
		defer span.End()
		err := h(ctx, e)
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		return err
	}
}

// CausedBy is es.CausedBy with the traceparent of the span in ctx (the
// handler's span) instead of e's own, so the events a handler appends
// are children of its span. Without a span in ctx, e's traceparent stays.
func CausedBy(ctx context.Context, e es.Event, actor string) es.Metadata {
	md := es.CausedBy(e, actor)
	if tp := TraceParent(ctx); tp != "" {
		md.TraceParent = tp
	}
	return md
}

type correlationKey struct{}

// WithCorrelationID returns ctx carrying the correlation id the logs name
// when ctx has no event metadata (es.WithMetadata) with one.
func WithCorrelationID(ctx context.Context, id string) context.Context {
	if id == "" {
		return ctx
	}
	return context.WithValue(ctx, correlationKey{}, id)
}

// CorrelationID returns the correlation id of the work ctx belongs to: the
// one of the metadata its writes carry, else the one of the event being
// handled; "" when there is none.
func CorrelationID(ctx context.Context) string {
	if id := es.MetadataFrom(ctx).CorrelationID; id != "" {
		return id
	}
	id, _ := ctx.Value(correlationKey{}).(string)
	return id
}
