package tracing_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/tracing"
)

// record installs a TracerProvider that keeps finished spans in memory for
// the rest of the test (the globals are restored after it).
func record(t *testing.T) *tracetest.InMemoryExporter {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	t.Cleanup(func() {
		otel.SetTracerProvider(prev)
		_ = tp.Shutdown(context.Background())
	})
	return exp
}

// named returns the one finished span called name.
func named(t *testing.T, exp *tracetest.InMemoryExporter, name string) tracetest.SpanStub {
	t.Helper()
	var found []tracetest.SpanStub
	for _, s := range exp.GetSpans() {
		if s.Name == name {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d spans named %q; all: %v", len(found), name, names(exp))
	}
	return found[0]
}

func names(exp *tracetest.InMemoryExporter) []string {
	var out []string
	for _, s := range exp.GetSpans() {
		out = append(out, s.Name)
	}
	return out
}

func attr(s tracetest.SpanStub, key string) string {
	for _, kv := range s.Attributes {
		if string(kv.Key) == key {
			return kv.Value.String()
		}
	}
	return ""
}

const incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

func serve(t *testing.T, register func(e *echo.Echo)) *httptest.Server {
	t.Helper()
	e := echo.New()
	e.Use(tracing.Middleware())
	register(e)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string, header map[string]string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	return res.StatusCode
}

func TestMiddlewareContinuesTheCallersTraceOrStartsOne(t *testing.T) {
	exp := record(t)
	var seen []string
	var mu sync.Mutex
	srv := serve(t, func(e *echo.Echo) {
		e.GET("/orders/:id", func(c echo.Context) error {
			mu.Lock()
			seen = append(seen, tracing.TraceParent(c.Request().Context()))
			mu.Unlock()
			return c.NoContent(http.StatusNoContent)
		})
		e.GET("/healthz", func(c echo.Context) error { return c.NoContent(http.StatusOK) })
	})
	get(t, srv.URL+"/orders/o-1", map[string]string{"traceparent": incoming})
	get(t, srv.URL+"/orders/o-2", map[string]string{"traceparent": "00-00000000000000000000000000000000-00f067aa0ba902b7-01"})
	get(t, srv.URL+"/healthz", nil)

	spans := exp.GetSpans()
	if len(spans) != 2 {
		t.Fatalf("spans %v: want one per order request and none for /healthz", names(exp))
	}
	cont, fresh := spans[0], spans[1]
	for _, s := range spans {
		if s.Name != "GET /orders/:id" || s.SpanKind != trace.SpanKindServer || attr(s, "http.response.status_code") != "204" {
			t.Errorf("span %q kind %v status %q: want the route template, server, 204", s.Name, s.SpanKind, attr(s, "http.response.status_code"))
		}
	}
	if cont.SpanContext.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" || cont.Parent.SpanID().String() != "00f067aa0ba902b7" || !cont.Parent.IsRemote() {
		t.Errorf("span %v with parent %v: want a child of the caller's span", cont.SpanContext, cont.Parent)
	}
	if fresh.Parent.IsValid() || fresh.SpanContext.TraceID() == cont.SpanContext.TraceID() {
		t.Errorf("an invalid traceparent was continued: %v under %v", fresh.SpanContext, fresh.Parent)
	}
	if want := "00-" + cont.SpanContext.TraceID().String() + "-" + cont.SpanContext.SpanID().String() + "-01"; seen[0] != want {
		t.Errorf("handler saw traceparent %q, want its server span's %q", seen[0], want)
	}
}

func TestMiddlewareRecordsTheStatusTheClientGets(t *testing.T) {
	exp := record(t)
	srv := serve(t, func(e *echo.Echo) {
		e.GET("/boom", func(echo.Context) error { return errors.New("database on fire") })
		e.GET("/missing", func(echo.Context) error { return echo.ErrNotFound })
	})
	if got := get(t, srv.URL+"/boom", nil); got != http.StatusInternalServerError {
		t.Fatalf("status %d", got)
	}
	if got := get(t, srv.URL+"/missing", nil); got != http.StatusNotFound {
		t.Fatalf("status %d", got)
	}
	boom, missing := named(t, exp, "GET /boom"), named(t, exp, "GET /missing")
	if attr(boom, "http.response.status_code") != "500" || boom.Status.Code != codes.Error {
		t.Errorf("/boom span: status %s, code %v", attr(boom, "http.response.status_code"), boom.Status.Code)
	}
	if attr(missing, "http.response.status_code") != "404" || missing.Status.Code == codes.Error {
		t.Errorf("/missing span: status %s, code %v (a 4xx is the client's error)", attr(missing, "http.response.status_code"), missing.Status.Code)
	}
}

func TestTransportMakesClientSpansAndSendsTheirTraceparent(t *testing.T) {
	exp := record(t)
	var got string
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Get("traceparent")
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(backend.Close)
	hc := &http.Client{Transport: tracing.Transport("order", nil)}

	ctx, root := otel.Tracer("test").Start(t.Context(), "root")
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, backend.URL+"/orders", nil)
	res, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	root.End()
	if req.Header.Get("traceparent") != "" {
		t.Error("the caller's request was changed")
	}

	// Without a span in the context, a traceparent set on the request is the parent.
	req, _ = http.NewRequestWithContext(t.Context(), http.MethodGet, backend.URL+"/orders/o-1", nil)
	req.Header.Set("traceparent", incoming)
	res, err = hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()

	spans := exp.GetSpans()
	post, rootSpan := named(t, exp, "POST order"), named(t, exp, "root")
	if post.SpanKind != trace.SpanKindClient || post.Parent.SpanID() != rootSpan.SpanContext.SpanID() ||
		attr(post, "http.response.status_code") != "202" || attr(post, "peer.service") != "order" {
		t.Errorf("client span %+v", post)
	}
	getSpan := named(t, exp, "GET order")
	if getSpan.SpanContext.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" || getSpan.Parent.SpanID().String() != "00f067aa0ba902b7" {
		t.Errorf("GET span %v under %v: want the request's traceparent as parent", getSpan.SpanContext, getSpan.Parent)
	}
	if want := "00-" + getSpan.SpanContext.TraceID().String() + "-" + getSpan.SpanContext.SpanID().String() + "-01"; got != want {
		t.Errorf("backend got traceparent %q, want the client span's %q (%d spans)", got, want, len(spans))
	}
}

func TestTraceParentWithoutSpanIsEmpty(t *testing.T) {
	if tp := tracing.TraceParent(context.Background()); tp != "" {
		t.Fatalf("TraceParent = %q", tp)
	}
}

func TestStartConsumerWithoutTraceparentStartsANewTrace(t *testing.T) {
	exp := record(t)
	ctx, outer := otel.Tracer("test").Start(t.Context(), "unrelated")
	e := es.Event{EventData: es.EventData{ID: es.NewUUID(), Type: "x.happened", Metadata: es.Metadata{TraceParent: "junk"}}, StreamID: "x-1"}
	_, span := tracing.StartConsumer(ctx, "h", e)
	span.End()
	outer.End()
	s := named(t, exp, "h x.happened")
	if s.Parent.IsValid() || s.SpanContext.TraceID() == named(t, exp, "unrelated").SpanContext.TraceID() {
		t.Fatalf("consumer span %v under %v: want a root of its own", s.SpanContext, s.Parent)
	}
}

func TestCausedByKeepsTheEventsTraceWithoutASpan(t *testing.T) {
	e := es.Event{EventData: es.EventData{ID: es.NewUUID(), Metadata: es.Metadata{CorrelationID: "o-1", TraceParent: incoming}}}
	md := tracing.CausedBy(context.Background(), e, "saga")
	if md.TraceParent != incoming || md.CorrelationID != "o-1" || md.CausationID != e.ID.String() || md.Actor != "saga" {
		t.Fatalf("metadata %+v", md)
	}
}

func TestLogHandlerAddsTraceAndCorrelationIDs(t *testing.T) {
	record(t)
	var buf bytes.Buffer
	log := slog.New(tracing.LogHandler(slog.NewJSONHandler(&buf, nil))).With("service", "test")
	e := es.Event{EventData: es.EventData{ID: es.NewUUID(), Type: "x.happened", Metadata: es.Metadata{CorrelationID: "o-7", TraceParent: incoming}}}
	ctx, span := tracing.StartConsumer(t.Context(), "h", e)
	log.InfoContext(ctx, "handled")
	span.End()
	log.InfoContext(es.WithMetadata(t.Context(), es.Metadata{CorrelationID: "o-8"}), "written")
	log.Info("plain")

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("log: %s", buf.String())
	}
	var rec []map[string]any
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		rec = append(rec, m)
	}
	sc := span.SpanContext()
	if rec[0]["trace_id"] != sc.TraceID().String() || rec[0]["span_id"] != sc.SpanID().String() || rec[0]["correlation_id"] != "o-7" || rec[0]["service"] != "test" {
		t.Errorf("record in a handler span: %v", rec[0])
	}
	if rec[1]["correlation_id"] != "o-8" || rec[1]["trace_id"] != nil {
		t.Errorf("record with metadata only: %v", rec[1])
	}
	if rec[2]["trace_id"] != nil || rec[2]["correlation_id"] != nil {
		t.Errorf("record without context: %v", rec[2])
	}
}

// TestSetupExportsOverOTLPHTTP points Setup at an OTLP/HTTP receiver and
// checks that a span arrives, named and with the service's name, when the
// shutdown func flushes.
func TestSetupExportsOverOTLPHTTP(t *testing.T) {
	prev := otel.GetTracerProvider()
	t.Cleanup(func() { otel.SetTracerProvider(prev) })
	var mu sync.Mutex
	var got []*collectortrace.ExportTraceServiceRequest
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req collectortrace.ExportTraceServiceRequest
		if r.URL.Path != "/v1/traces" || proto.Unmarshal(body, &req) != nil {
			http.Error(w, "bad export", http.StatusBadRequest)
			return
		}
		mu.Lock()
		got = append(got, &req)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		out, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
		_, _ = w.Write(out)
	}))
	t.Cleanup(recv.Close)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", recv.URL)
	t.Setenv("OTEL_TRACES_EXPORTER", "")

	shutdown, err := tracing.Setup(t.Context(), "order")
	if err != nil {
		t.Fatal(err)
	}
	_, span := otel.Tracer("test").Start(t.Context(), "work")
	span.End()
	if err := shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	var service, name string
	for _, req := range got {
		for _, rs := range req.ResourceSpans {
			for _, kv := range rs.Resource.Attributes {
				if kv.Key == "service.name" {
					service = kv.Value.GetStringValue()
				}
			}
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					name = s.Name
				}
			}
		}
	}
	if service != "order" || name != "work" {
		t.Fatalf("received %d exports: service %q span %q", len(got), service, name)
	}
}

// BenchmarkHandler measures what a consumer span costs each delivered event
// with the SDK's provider and no exporter (what Setup installs without an
// endpoint when OTEL_TRACES_SAMPLER names a sampler; otherwise it installs
// the light provider, which BenchmarkMiddleware compares).
func BenchmarkHandler(b *testing.B) {
	prev := otel.GetTracerProvider()
	tp := sdktrace.NewTracerProvider()
	otel.SetTracerProvider(tp)
	b.Cleanup(func() { otel.SetTracerProvider(prev) })
	e := es.Event{EventData: es.EventData{ID: es.NewUUID(), Type: "order.placed", Metadata: es.Metadata{CorrelationID: "o-1", TraceParent: incoming}},
		StreamID: "order-o-1"}
	h := tracing.Handler("saga", func(ctx context.Context, e es.Event) error {
		_ = tracing.CausedBy(ctx, e, "saga")
		return nil
	})
	b.ReportAllocs()
	for b.Loop() {
		_ = h(context.Background(), e)
	}
}
