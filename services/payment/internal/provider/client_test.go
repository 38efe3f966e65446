package provider_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ordo-platform/ordo/pkg/money"
	"github.com/ordo-platform/ordo/services/payment/internal/provider"
	"github.com/ordo-platform/ordo/services/payment/internal/providersim"
)

func startSim(t *testing.T, f providersim.Faults) (*providersim.Sim, string) {
	t.Helper()
	sim, err := providersim.New(providersim.Options{Seed: 1, Faults: f})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler(slog.New(slog.NewTextHandler(io.Discard, nil))))
	t.Cleanup(func() { sim.Close(); srv.Close() })
	return sim, srv.URL
}

func newClient(t *testing.T, url string, o provider.Options) *provider.Client {
	t.Helper()
	if o.Backoff == 0 {
		o.Backoff = 5 * time.Millisecond
	}
	if o.Timeout == 0 {
		o.Timeout = time.Second
	}
	c, err := provider.New(url, o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func setFaults(t *testing.T, sim *providersim.Sim, f providersim.Faults) {
	t.Helper()
	if err := sim.SetFaults(f); err != nil {
		t.Fatal(err)
	}
}

var ctx = context.Background()

func TestChargeCapturedAndDeclined(t *testing.T) {
	sim, url := startSim(t, providersim.Faults{})
	c := newClient(t, url, provider.Options{})
	o, err := c.Charge(ctx, "o1", money.Euros(100))
	if err != nil || o.Kind != provider.Captured || o.Ref == "" {
		t.Fatalf("charge: %+v, %v", o, err)
	}
	setFaults(t, sim, providersim.Faults{DeclineRate: 1})
	before := sim.Requests()
	o, err = c.Charge(ctx, "o2", money.Euros(100))
	if err != nil || o.Kind != provider.Declined || o.Reason == "" {
		t.Fatalf("charge: %+v, %v; want declined with a reason", o, err)
	}
	if n := sim.Requests() - before; n != 1 {
		t.Errorf("a decline took %d calls; declines are never retried", n)
	}
	if got := c.Breaker(); got.ConsecutiveFailures != 0 || got.TotalFailures != 0 {
		t.Errorf("breaker counted a decline as a failure: %+v", got)
	}
}

func TestErrorsAreRetriedThenUnknown(t *testing.T) {
	sim, url := startSim(t, providersim.Faults{ErrorRate: 1})
	c := newClient(t, url, provider.Options{Attempts: 4, BreakerFailures: 100})
	o, err := c.Charge(ctx, "o1", money.Euros(100))
	if err != nil || o.Kind != provider.Unknown || o.Detail == "" {
		t.Fatalf("charge: %+v, %v; want unknown", o, err)
	}
	if n := sim.Requests(); n != 4 {
		t.Errorf("%d calls, want 4 attempts", n)
	}
	if got := c.Breaker(); got.ConsecutiveFailures != 4 {
		t.Errorf("breaker counts %+v, want 4 failures in a row", got)
	}
}

func TestLostAnswerIsUnknownAndLookupFindsTheCharge(t *testing.T) {
	sim, url := startSim(t, providersim.Faults{LostResponseRate: 1})
	c := newClient(t, url, provider.Options{Timeout: 200 * time.Millisecond, Attempts: 2, BreakerFailures: 100})
	o, err := c.Charge(ctx, "o1", money.Euros(100))
	if err != nil || o.Kind != provider.Unknown {
		t.Fatalf("charge: %+v, %v; want unknown", o, err)
	}
	l := sim.Ledger()
	if len(l.Charges) != 1 {
		t.Fatalf("ledger has %d charges after two lost attempts, want 1", len(l.Charges))
	}
	setFaults(t, sim, providersim.Faults{})
	got, found, err := c.Lookup(ctx, "o1")
	if err != nil || !found || got.Kind != provider.Captured || got.Ref != l.Charges[0].ID {
		t.Errorf("lookup: %+v found=%v %v; want captured %s", got, found, err, l.Charges[0].ID)
	}
	if _, found, err := c.Lookup(ctx, "never"); err != nil || found {
		t.Errorf("lookup of an unknown key: found=%v %v", found, err)
	}
	again, err := c.Charge(ctx, "o1", money.Euros(100))
	if err != nil || again.Ref != l.Charges[0].ID {
		t.Errorf("charging again under the same key: %+v %v; want the same charge", again, err)
	}
}

func TestTimeoutIsUnknown(t *testing.T) {
	sim, url := startSim(t, providersim.Faults{LatencyMS: 300})
	c := newClient(t, url, provider.Options{Timeout: 50 * time.Millisecond, Attempts: 2, BreakerFailures: 100})
	o, err := c.Charge(ctx, "o1", money.Euros(100))
	if err != nil || o.Kind != provider.Unknown {
		t.Fatalf("charge: %+v, %v; want unknown", o, err)
	}
	if got := c.Breaker(); got.TotalFailures != 2 {
		t.Errorf("breaker %+v, want both timeouts counted", got)
	}
	_ = sim
}

func TestRejectedIsNotRetriedNorCounted(t *testing.T) {
	sim, url := startSim(t, providersim.Faults{})
	c := newClient(t, url, provider.Options{BreakerFailures: 1})
	if _, err := c.Charge(ctx, "o1", money.Euros(100)); err != nil {
		t.Fatal(err)
	}
	before := sim.Requests()
	_, err := c.Charge(ctx, "o1", money.Euros(999))
	if !errors.Is(err, provider.ErrRejected) {
		t.Fatalf("other amount under the same key: %v, want ErrRejected", err)
	}
	if n := sim.Requests() - before; n != 1 {
		t.Errorf("%d calls for a 422; want 1", n)
	}
	if got := c.Breaker(); got.State != "closed" || got.TotalFailures != 0 {
		t.Errorf("breaker %+v after a 4xx, want closed with no failures", got)
	}
	if _, err := c.Refund(ctx, "o9", "ch_nope"); !errors.Is(err, provider.ErrRejected) {
		t.Errorf("refund of an unknown charge: %v, want ErrRejected", err)
	}
}

func TestRefund(t *testing.T) {
	sim, url := startSim(t, providersim.Faults{})
	c := newClient(t, url, provider.Options{Attempts: 2, BreakerFailures: 100})
	o, _ := c.Charge(ctx, "o1", money.Euros(100))
	setFaults(t, sim, providersim.Faults{ErrorRate: 1})
	if _, err := c.Refund(ctx, "o1", o.Ref); !errors.Is(err, provider.ErrUnavailable) {
		t.Fatalf("refund under errors: %v, want ErrUnavailable", err)
	}
	setFaults(t, sim, providersim.Faults{LostResponseRate: 1})
	if _, err := c.Refund(ctx, "o1", o.Ref); !errors.Is(err, provider.ErrUnavailable) {
		t.Fatalf("refund with lost answers: %v, want ErrUnavailable", err)
	}
	setFaults(t, sim, providersim.Faults{})
	r1, err := c.Refund(ctx, "o1", o.Ref)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := c.Refund(ctx, "o1", o.Ref)
	if err != nil || r2 != r1 {
		t.Errorf("repeat refund: %s %v, want %s", r2, err, r1)
	}
	if n := len(sim.Ledger().Refunds); n != 1 {
		t.Errorf("ledger has %d refunds, want 1", n)
	}
}

func TestBreakerOpensFailsFastAndCloses(t *testing.T) {
	sim, url := startSim(t, providersim.Faults{ErrorRate: 1})
	c := newClient(t, url, provider.Options{Attempts: 1, BreakerFailures: 3, BreakerOpenFor: 200 * time.Millisecond})
	for i := range 3 {
		if o, err := c.Charge(ctx, "o1", money.Euros(100)); err != nil || o.Kind != provider.Unknown {
			t.Fatalf("charge %d: %+v %v", i, o, err)
		}
	}
	if got := c.Breaker(); got.State != "open" {
		t.Fatalf("breaker %+v after 3 failures, want open", got)
	}
	before := sim.Requests()
	_, err := c.Charge(ctx, "o2", money.Euros(100))
	if !errors.Is(err, provider.ErrUnavailable) {
		t.Errorf("charge with the breaker open: %v, want ErrUnavailable before anything is sent", err)
	}
	if _, _, err := c.Lookup(ctx, "o1"); !errors.Is(err, provider.ErrUnavailable) {
		t.Errorf("lookup with the breaker open: %v", err)
	}
	if n := sim.Requests() - before; n != 0 {
		t.Errorf("%d calls reached the provider with the breaker open", n)
	}
	setFaults(t, sim, providersim.Faults{})
	time.Sleep(250 * time.Millisecond)
	if got := c.Breaker(); got.State != "half-open" {
		t.Errorf("breaker %+v after the open period, want half-open", got)
	}
	if o, err := c.Charge(ctx, "o2", money.Euros(100)); err != nil || o.Kind != provider.Captured {
		t.Fatalf("trial charge: %+v %v", o, err)
	}
	if got := c.Breaker(); got.State != "closed" {
		t.Errorf("breaker %+v after a good trial call, want closed", got)
	}
}

func TestPingAndBadURL(t *testing.T) {
	_, url := startSim(t, providersim.Faults{ErrorRate: 1})
	c := newClient(t, url, provider.Options{})
	if err := c.Ping(ctx); err != nil {
		t.Errorf("ping: %v (faults must not affect health)", err)
	}
	dead := newClient(t, "http://127.0.0.1:1", provider.Options{})
	if err := dead.Ping(ctx); err == nil {
		t.Error("ping of nothing succeeded")
	}
	for _, u := range []string{"", "ftp://x", "http://", "::"} {
		if _, err := provider.New(u, provider.Options{}); err == nil {
			t.Errorf("New(%q) accepted", u)
		}
	}
}
