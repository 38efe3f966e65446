package tracing_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/tracing"
)

var traceParentRE = regexp.MustCompile(`^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$`)

// setupLight runs Setup without an exporter, as every process does unless
// an OTLP endpoint is named, and restores the globals after the test.
func setupLight(t *testing.T) {
	t.Helper()
	prev := otel.GetTracerProvider()
	t.Cleanup(func() { otel.SetTracerProvider(prev) })
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	t.Setenv("OTEL_TRACES_SAMPLER", "")
	stop, err := tracing.Setup(t.Context(), "test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stop(context.Background()) })
}

// Without an exporter nothing is recorded, but each request still gets a
// span id of its own in the caller's trace (or a new sampled trace), which
// the handler sees and the transport passes on as a child: the traceparents
// are made as the SDK's default sampler makes them.
func TestWithoutExporterTraceparentsStillTravel(t *testing.T) {
	setupLight(t)
	var mu sync.Mutex
	var backendGot []string
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		backendGot = append(backendGot, r.Header.Get("traceparent"))
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(backend.Close)
	hc := &http.Client{Transport: tracing.Transport("inventory", nil)}
	var seen []string
	srv := serve(t, func(e *echo.Echo) {
		e.GET("/products", func(c echo.Context) error {
			ctx := c.Request().Context()
			if trace.SpanFromContext(ctx).IsRecording() {
				t.Error("a span records without an exporter")
			}
			mu.Lock()
			seen = append(seen, tracing.TraceParent(ctx))
			mu.Unlock()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, backend.URL+"/products", nil)
			res, err := hc.Do(req)
			if err != nil {
				return err
			}
			_ = res.Body.Close()
			if req.Header.Get("traceparent") != "" {
				t.Error("the transport changed the caller's request")
			}
			return c.NoContent(http.StatusNoContent)
		})
	})
	unsampled := "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"
	for _, tp := range []string{incoming, unsampled, "", "junk"} {
		if got := get(t, srv.URL+"/products", map[string]string{"traceparent": tp}); got != http.StatusNoContent {
			t.Fatalf("traceparent %q: status %d", tp, got)
		}
	}
	if len(seen) != 4 || len(backendGot) != 4 {
		t.Fatalf("handler saw %q, backend got %q", seen, backendGot)
	}
	for i, want := range []struct{ trace, flags string }{
		{"4bf92f3577b34da6a3ce929d0e0e4736", "01"}, // the caller's trace, sampled as the caller says
		{"4bf92f3577b34da6a3ce929d0e0e4736", "00"},
		{"", "01"}, // a new trace, sampled
		{"", "01"},
	} {
		h, b := traceParentRE.FindStringSubmatch(seen[i]), traceParentRE.FindStringSubmatch(backendGot[i])
		if h == nil || b == nil {
			t.Fatalf("request %d: handler saw %q, backend got %q", i, seen[i], backendGot[i])
		}
		if (want.trace != "" && h[1] != want.trace) || h[1] == strings.Repeat("0", 32) || h[3] != want.flags {
			t.Errorf("request %d: handler saw %q, want trace %q flags %s", i, seen[i], want.trace, want.flags)
		}
		if h[2] == "00f067aa0ba902b7" || h[2] == strings.Repeat("0", 16) {
			t.Errorf("request %d: handler's span id %s is not its own", i, h[2])
		}
		if b[1] != h[1] || b[2] == h[2] || b[3] != h[3] {
			t.Errorf("request %d: backend got %q under the handler's %q: want a child span in the same trace", i, backendGot[i], seen[i])
		}
	}
	if traceParentRE.FindStringSubmatch(seen[2])[1] == traceParentRE.FindStringSubmatch(seen[3])[1] {
		t.Errorf("two requests without a traceparent share trace %s", seen[2])
	}
}

// A handler's error still reaches the client through echo's error handler.
func TestWithoutExporterErrorsAreAnswered(t *testing.T) {
	setupLight(t)
	srv := serve(t, func(e *echo.Echo) {
		e.GET("/missing", func(echo.Context) error { return echo.ErrNotFound })
	})
	if got := get(t, srv.URL+"/missing", nil); got != http.StatusNotFound {
		t.Fatalf("status %d", got)
	}
}

// Event handlers continue the event's trace, and what they append carries
// their own span's traceparent.
func TestWithoutExporterConsumerSpansContinueTheEventsTrace(t *testing.T) {
	setupLight(t)
	e := es.Event{EventData: es.EventData{ID: es.NewUUID(), Type: "order.placed", Metadata: es.Metadata{CorrelationID: "o-1", TraceParent: incoming}},
		StreamID: "order-o-1"}
	var md es.Metadata
	h := tracing.Handler("saga", func(ctx context.Context, e es.Event) error {
		md = tracing.CausedBy(ctx, e, "saga")
		return nil
	})
	if err := h(t.Context(), e); err != nil {
		t.Fatal(err)
	}
	m := traceParentRE.FindStringSubmatch(md.TraceParent)
	if m == nil || m[1] != "4bf92f3577b34da6a3ce929d0e0e4736" || m[2] == "00f067aa0ba902b7" || m[3] != "01" {
		t.Fatalf("follow-up carries %q: want a child of %q", md.TraceParent, incoming)
	}
	e.Metadata.TraceParent = "junk"
	_, span := tracing.StartConsumer(t.Context(), "saga", e)
	if sc := span.SpanContext(); !sc.IsValid() || !sc.IsSampled() {
		t.Fatalf("an event without a traceparent starts %v: want a new sampled trace", sc)
	}
}

// BenchmarkMiddleware is the server span's cost per request with and
// without an exporter's provider.
func BenchmarkMiddleware(b *testing.B) {
	run := func(b *testing.B) {
		e := echo.New()
		e.Use(tracing.Middleware())
		e.GET("/products", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
		req := httptest.NewRequestWithContext(b.Context(), http.MethodGet, "/products", nil)
		req.Header.Set("traceparent", incoming)
		b.ReportAllocs()
		for b.Loop() {
			e.ServeHTTP(httptest.NewRecorder(), req)
		}
	}
	prev := otel.GetTracerProvider()
	b.Cleanup(func() { otel.SetTracerProvider(prev) })
	b.Run("sdk", func(b *testing.B) {
		b.Setenv("OTEL_TRACES_SAMPLER", "always_on") // the SDK's provider, with no exporter
		stop, err := tracing.Setup(context.Background(), "bench")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = stop(context.Background()) })
		run(b)
	})
	b.Run("light", func(b *testing.B) {
		b.Setenv("OTEL_TRACES_SAMPLER", "")
		stop, err := tracing.Setup(context.Background(), "bench")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = stop(context.Background()) })
		run(b)
	})
}
