package tracing

import (
	"context"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// untraced are routes polled by probes and scrapers: a trace each would
// bury the ones that matter.
var untraced = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// Middleware starts a server span for every request (but the health and
// metrics routes), continuing the caller's trace when the request carries
// a valid traceparent and starting a new one otherwise. The span is named
// after the route template ("POST /orders/:id/cancel") and is in the
// request's context for the handlers, their logs and the events they
// append. A handler's error is handed to echo's error handler here, so the
// span records the status the client gets.
func Middleware() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			route := c.Path()
			if untraced[route] {
				return next(c)
			}
			req := c.Request()
			ctx := propagation.TraceContext{}.Extract(req.Context(), propagation.HeaderCarrier(req.Header))
			if light() { // nothing records: the span is only its id
				ctx, _ = lightTracer{}.Start(ctx, "")
				c.SetRequest(req.WithContext(ctx))
				if err := next(c); err != nil {
					c.Error(err)
				}
				return nil
			}
			name := req.Method
			if route != "" {
				name += " " + route
			}
			ctx, span := tracer().Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer),
				trace.WithAttributes(semconv.HTTPRequestMethodKey.String(req.Method), semconv.HTTPRoute(route),
					semconv.URLPath(req.URL.Path)))
			defer span.End()
			c.SetRequest(req.WithContext(ctx))
			if err := next(c); err != nil {
				span.RecordError(err)
				c.Error(err)
			}
			status := c.Response().Status
			span.SetAttributes(semconv.HTTPResponseStatusCode(status))
			if status >= http.StatusInternalServerError {
				span.SetStatus(codes.Error, http.StatusText(status))
			}
			return nil
		}
	}
}

// Transport returns a RoundTripper (over base, http.DefaultTransport when
// nil) that makes each outgoing request a client span named after the
// method and peer ("GET order") and sends its traceparent along. The
// parent is the span in the request's context, else a traceparent already
// set on the request. The span ends when the response headers arrive.
func Transport(peer string, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{peer: peer, base: base}
}

type transport struct {
	peer string
	base http.RoundTripper
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if !trace.SpanContextFromContext(ctx).IsValid() {
		ctx = propagation.TraceContext{}.Extract(ctx, propagation.HeaderCarrier(req.Header))
	}
	ctx, span := t.start(ctx, req)
	defer span.End()
	out := req.Clone(ctx) // a RoundTripper must not change the caller's request
	propagation.TraceContext{}.Inject(ctx, propagation.HeaderCarrier(out.Header))
	res, err := t.base.RoundTrip(out)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		return nil, err
	}
	span.SetAttributes(semconv.HTTPResponseStatusCode(res.StatusCode))
	if res.StatusCode >= http.StatusInternalServerError {
		span.SetStatus(codes.Error, http.StatusText(res.StatusCode))
	}
	return res, nil
}

func (t *transport) start(ctx context.Context, req *http.Request) (context.Context, trace.Span) {
	if light() { // nothing records: skip the attributes
		return lightTracer{}.Start(ctx, "")
	}
	attrs := []attribute.KeyValue{semconv.HTTPRequestMethodKey.String(req.Method), semconv.URLPath(req.URL.Path),
		semconv.ServerAddress(req.URL.Hostname()), attribute.String("peer.service", t.peer)}
	if p, err := strconv.Atoi(req.URL.Port()); err == nil {
		attrs = append(attrs, semconv.ServerPort(p))
	}
	return tracer().Start(ctx, req.Method+" "+t.peer, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
}
