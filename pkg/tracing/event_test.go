package tracing_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/eventstore/postgres"
	"github.com/ordo-platform/ordo/pkg/testenv"
	"github.com/ordo-platform/ordo/pkg/tracing"
)

func newStore(t *testing.T) *postgres.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool, err := pgxpool.New(ctx, testenv.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := postgres.Migrate(pool); err != nil {
		t.Fatal(err)
	}
	s := postgres.New(pool, postgres.Options{PollInterval: 50 * time.Millisecond})
	t.Cleanup(func() {
		s.Close()
		pool.Close()
	})
	return s
}

// TestTraceCrossesTheEventStore follows one request through PostgreSQL: the
// request's handler appends an event carrying its span's traceparent; a
// subscriber handles it in a consumer span of the same trace and appends a
// follow-up carrying the consumer span's traceparent; a second subscriber
// handling the follow-up is again in that trace, a grandchild of the request.
func TestTraceCrossesTheEventStore(t *testing.T) {
	exp := record(t)
	store := newStore(t)
	srv := serve(t, func(e *echo.Echo) {
		e.POST("/orders/:id", func(c echo.Context) error {
			ctx := c.Request().Context()
			_, err := store.Append(ctx, "order-"+c.Param("id"), es.NoStream, es.EventData{Type: "order.placed", Data: json.RawMessage(`{}`),
				Metadata: es.Metadata{CorrelationID: c.Param("id"), TraceParent: tracing.TraceParent(ctx)}})
			if err != nil {
				return err
			}
			return c.NoContent(http.StatusAccepted)
		})
	})
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/orders/o-1", nil)
	req.Header.Set("traceparent", incoming)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("status %d", res.StatusCode)
	}

	// The saga's part: react to order.placed with a request of its own.
	follow := func(ctx context.Context, e es.Event) error {
		if e.Type != "order.placed" {
			return nil
		}
		md := tracing.CausedBy(ctx, e, "saga")
		_, err := store.Append(ctx, "fulfilment-o-1", es.Any, es.EventData{ID: es.DerivedUUID(e.ID, "saga"),
			Type: "stock.reservation_requested", Data: json.RawMessage(`{}`), Metadata: md})
		return err
	}
	// The participant's part: take the follow-up and stop.
	var followUp es.Event
	stop := errors.New("done")
	take := func(_ context.Context, e es.Event) error {
		followUp = e
		return stop
	}
	subscribe(t, store, es.Filter{Types: []string{"order.placed"}}, tracing.Handler("saga", follow), 1)
	if err := subscribeUntil(t, store, es.Filter{Types: []string{"stock.reservation_requested"}}, tracing.Handler("inventory", take)); !errors.Is(err, stop) {
		t.Fatalf("participant subscription: %v", err)
	}

	server := named(t, exp, "POST /orders/:id")
	saga := named(t, exp, "saga order.placed")
	part := named(t, exp, "inventory stock.reservation_requested")
	trace := server.SpanContext.TraceID()
	if trace.String() != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Fatalf("server span in trace %s, want the caller's", trace)
	}
	for _, s := range []tracetest.SpanStub{saga, part} {
		if s.SpanContext.TraceID() != trace || s.SpanKind != oteltrace.SpanKindConsumer {
			t.Errorf("span %q in trace %s, kind %v: want trace %s, consumer", s.Name, s.SpanContext.TraceID(), s.SpanKind, trace)
		}
	}
	if saga.Parent.SpanID() != server.SpanContext.SpanID() {
		t.Errorf("saga span's parent %s, want the request's span %s", saga.Parent.SpanID(), server.SpanContext.SpanID())
	}
	if part.Parent.SpanID() != saga.SpanContext.SpanID() {
		t.Errorf("participant span's parent %s, want the saga's span %s", part.Parent.SpanID(), saga.SpanContext.SpanID())
	}
	if want := "00-" + trace.String() + "-" + saga.SpanContext.SpanID().String() + "-01"; followUp.Metadata.TraceParent != want {
		t.Errorf("follow-up carries traceparent %q, want the saga span's %q", followUp.Metadata.TraceParent, want)
	}
	if attr(saga, "ordo.event.type") != "order.placed" || attr(saga, "ordo.event.stream") != "order-o-1" ||
		attr(saga, "ordo.correlation_id") != "o-1" || attr(saga, "ordo.event.position") == "" {
		t.Errorf("saga span attributes %v", saga.Attributes)
	}
	if part.Status.Code != codes.Error {
		t.Errorf("a handler error left the span's status %v", part.Status)
	}
}

// subscribe runs a subscription from the start until it has handled n
// events, then stops it.
func subscribe(t *testing.T, store es.Store, f es.Filter, h es.Handler, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	seen := 0
	err := store.Subscribe(ctx, es.Start, f, func(ctx context.Context, e es.Event) error {
		if err := h(ctx, e); err != nil {
			return err
		}
		if seen++; seen == n {
			cancel()
		}
		return nil
	})
	if seen != n {
		t.Fatalf("subscription handled %d events, want %d: %v", seen, n, err)
	}
}

// subscribeUntil runs a subscription from the start until h fails or 30
// seconds pass, and returns its error.
func subscribeUntil(t *testing.T, store es.Store, f es.Filter, h es.Handler) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	return store.Subscribe(ctx, es.Start, f, h)
}
