// Package tracing follows one business transaction across every hop of
// ordo with OpenTelemetry: the HTTP requests (a server span per request, a
// client span per outgoing call, the W3C traceparent header between them)
// and the asynchronous hops through the event store, where an event's
// metadata carries the traceparent of the span that appended it and a
// subscriber's handler span continues that trace. Logs written with a
// span's context carry its trace and span ids and the correlation id.
//
// Setup installs the process's TracerProvider. Without it the helpers
// still pass trace context along unchanged; they just record nothing.
package tracing

import (
	"context"
	"fmt"
	"os"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// instrumentation names the tracer every helper here uses.
const instrumentation = "github.com/ordo-platform/ordo/pkg/tracing"

// shutdownTimeout bounds the final flush when the caller gives no deadline.
const shutdownTimeout = 5 * time.Second

// Setup installs a TracerProvider for service and the W3C TraceContext
// propagator as the process's globals. Spans are exported over OTLP/HTTP
// only when OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
// is set (and OTEL_TRACES_EXPORTER is not "none"). Otherwise, unless
// OTEL_TRACES_SAMPLER asks for a sampler of its own, a light provider
// makes non-recording spans: each still has its own span id in the
// caller's trace (or a new sampled one), so traceparents still travel to
// the backends and into event metadata and trace ids reach the logs, at a
// fraction of the cost of spans built only to be dropped. The other
// standard OTEL_* variables (OTEL_BSP_SCHEDULE_DELAY, OTEL_TRACES_SAMPLER,
// OTEL_RESOURCE_ATTRIBUTES, OTEL_EXPORTER_OTLP_HEADERS, ...) are read by the
// SDK as documented by OpenTelemetry; service is the service.name whatever
// OTEL_SERVICE_NAME says.
//
// The returned func flushes what is buffered and stops the provider; it
// waits at most five seconds when ctx has no deadline.
func Setup(ctx context.Context, service string) (func(context.Context) error, error) {
	res, err := resource.New(ctx,
		resource.WithSchemaURL(semconv.SchemaURL),
		resource.WithTelemetrySDK(),
		resource.WithFromEnv(),
		resource.WithAttributes(semconv.ServiceName(service)),
	)
	if err != nil {
		return nil, fmt.Errorf("tracing resource: %w", err)
	}
	otel.SetTextMapPropagator(propagation.TraceContext{})
	if !exporting(os.Getenv) && os.Getenv("OTEL_TRACES_SAMPLER") == "" {
		otel.SetTracerProvider(lightProvider{})
		return func(context.Context) error { return nil }, nil
	}
	opts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	if exporting(os.Getenv) {
		exp, err := otlptracehttp.New(ctx)
		if err != nil {
			return nil, fmt.Errorf("OTLP trace exporter: %w", err)
		}
		opts = append(opts, sdktrace.WithBatcher(exp))
	}
	tp := sdktrace.NewTracerProvider(opts...)
	otel.SetTracerProvider(tp)
	return func(ctx context.Context) error {
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, shutdownTimeout)
			defer cancel()
		}
		if err := tp.Shutdown(ctx); err != nil {
			return fmt.Errorf("flush traces: %w", err)
		}
		return nil
	}, nil
}

// exporting reports whether the environment names an OTLP endpoint for traces.
func exporting(getenv func(string) string) bool {
	if getenv("OTEL_TRACES_EXPORTER") == "none" {
		return false
	}
	return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// tracer is looked up on every use, not kept: a tracer taken from the
// global provider before Setup would stay bound to the first provider ever
// installed.
func tracer() trace.Tracer { return otel.Tracer(instrumentation) }

// TraceParent returns the W3C traceparent of the span in ctx, or "" when
// ctx carries none. Writes put it in the metadata of the events they
// append, so whoever handles those events continues this span's trace.
func TraceParent(ctx context.Context) string {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ""
	}
	var c parentCarrier
	propagation.TraceContext{}.Inject(ctx, &c)
	return c.parent
}

// parentCarrier keeps only the traceparent an Inject sets.
type parentCarrier struct{ parent string }

func (c *parentCarrier) Get(key string) string {
	if key == "traceparent" {
		return c.parent
	}
	return ""
}

func (c *parentCarrier) Set(key, value string) {
	if key == "traceparent" {
		c.parent = value
	}
}

func (c *parentCarrier) Keys() []string { return []string{"traceparent"} }

// parse reads a traceparent; the zero SpanContext when tp is not a valid one.
func parse(tp string) trace.SpanContext {
	if tp == "" {
		return trace.SpanContext{}
	}
	ctx := propagation.TraceContext{}.Extract(context.Background(), propagation.MapCarrier{"traceparent": tp})
	return trace.SpanContextFromContext(ctx)
}
