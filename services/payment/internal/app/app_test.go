package app_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/money"
	"github.com/ordo-platform/ordo/services/payment"
	"github.com/ordo-platform/ordo/services/payment/internal/app"
	"github.com/ordo-platform/ordo/services/payment/internal/provider"
	"github.com/ordo-platform/ordo/services/payment/internal/providersim"
)

var ctx = context.Background()

func TestCaptureIsIdempotent(t *testing.T) {
	e := newEnv(t, 1, providersim.Faults{}, provider.Options{})
	res, err := e.svc.Capture(ctx, "o1", money.Euros(1290))
	if err != nil || res.Status != payment.StatusCaptured || res.ProviderRef == "" || res.Position.IsZero() {
		t.Fatalf("capture: %+v %v", res, err)
	}
	calls := e.sim.Requests()
	again, err := e.svc.Capture(ctx, "o1", money.Euros(1290))
	if err != nil || again != res {
		t.Errorf("capture again: %+v %v, want %+v", again, err, res)
	}
	if n := e.sim.Requests() - calls; n != 0 {
		t.Errorf("capturing a captured payment called the provider %d times", n)
	}
	if diff := cmp.Diff([]string{payment.TypeRequested, payment.TypeCaptured}, e.types(t, "o1")); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if _, err := e.svc.Capture(ctx, "o1", money.Euros(1)); !errors.Is(err, payment.ErrConflict) {
		t.Errorf("capture of another amount: %v, want a conflict", err)
	}
}

func TestCaptureRecordsMetadata(t *testing.T) {
	e := newEnv(t, 1, providersim.Faults{}, provider.Options{})
	c := es.WithMetadata(ctx, es.Metadata{CausationID: "req-1", Actor: "alice", TraceParent: "00-abc-def-01"})
	if _, err := e.svc.Capture(c, "o1", money.Euros(100)); err != nil {
		t.Fatal(err)
	}
	events, _ := e.store.ReadStream(ctx, "payment-o1", es.Forwards, 0, 10)
	want := es.Metadata{CorrelationID: "o1", CausationID: "req-1", Actor: "alice", TraceParent: "00-abc-def-01", SchemaVersion: 1}
	for _, ev := range events {
		if diff := cmp.Diff(want, ev.Metadata); diff != "" {
			t.Errorf("%s metadata (-want +got):\n%s", ev.Type, diff)
		}
	}
}

func TestCaptureRejectsBadAmountAndWritesNothing(t *testing.T) {
	e := newEnv(t, 1, providersim.Faults{}, provider.Options{})
	for _, m := range []money.Money{money.Euros(0), money.Euros(-1), {Amount: 5, Currency: "eu"}} {
		if _, err := e.svc.Capture(ctx, "o1", m); !errors.Is(err, payment.ErrInvalid) {
			t.Errorf("capture %v: %v, want invalid", m, err)
		}
	}
	if _, err := e.store.ReadStream(ctx, "payment-o1", es.Forwards, 0, 1); !errors.Is(err, es.ErrStreamNotFound) {
		t.Errorf("stream after bad captures: %v, want none", err)
	}
	if e.sim.Requests() != 0 {
		t.Error("a bad capture reached the provider")
	}
}

func TestDeclineIsFinal(t *testing.T) {
	e := newEnv(t, 1, providersim.Faults{DeclineRate: 1}, provider.Options{})
	res, err := e.svc.Capture(ctx, "o1", money.Euros(100))
	if err != nil || res.Status != payment.StatusDeclined || res.DeclineReason == "" {
		t.Fatalf("capture: %+v %v", res, err)
	}
	calls := e.sim.Requests()
	if again, _ := e.svc.Capture(ctx, "o1", money.Euros(100)); again.Status != payment.StatusDeclined || e.sim.Requests() != calls {
		t.Errorf("capture of a declined payment: %+v, provider calls %d → %d", again, calls, e.sim.Requests())
	}
	if _, err := e.svc.Refund(ctx, "o1"); !errors.Is(err, payment.ErrConflict) {
		t.Errorf("refund of a declined payment: %v, want a conflict", err)
	}
}

func TestUnknownOutcomeIsReconciledFromTheLedger(t *testing.T) {
	e := newEnv(t, 1, providersim.Faults{LostResponseRate: 1}, provider.Options{Timeout: 100 * time.Millisecond, Attempts: 2})
	res, err := e.svc.Capture(ctx, "o1", money.Euros(100))
	if err != nil || res.Status != payment.StatusUnknown {
		t.Fatalf("capture with lost answers: %+v %v, want unknown", res, err)
	}
	e.faults(t, providersim.Faults{})
	res, err = e.svc.Reconcile(ctx, "o1")
	ledger := e.sim.Ledger()
	if err != nil || res.Status != payment.StatusCaptured || len(ledger.Charges) != 1 || res.ProviderRef != ledger.Charges[0].ID {
		t.Fatalf("reconcile: %+v %v; ledger %+v", res, err, ledger)
	}
	want := []string{payment.TypeRequested, payment.TypeOutcomeUnknown, payment.TypeCaptured}
	if diff := cmp.Diff(want, e.types(t, "o1")); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func TestUnknownWithoutChargeIsChargedAgainOnReconcile(t *testing.T) {
	e := newEnv(t, 1, providersim.Faults{ErrorRate: 1}, provider.Options{Attempts: 2, BreakerFailures: 100})
	if res, err := e.svc.Capture(ctx, "o1", money.Euros(100)); err != nil || res.Status != payment.StatusUnknown {
		t.Fatalf("capture under errors: %+v %v, want unknown", res, err)
	}
	e.faults(t, providersim.Faults{})
	res, err := e.svc.Capture(ctx, "o1", money.Euros(100)) // capture of an unknown payment reconciles
	if err != nil || res.Status != payment.StatusCaptured {
		t.Fatalf("capture again: %+v %v", res, err)
	}
	if n := len(e.sim.Ledger().Charges); n != 1 {
		t.Errorf("ledger has %d charges, want 1", n)
	}
}

func TestOpenBreakerRecordsNothing(t *testing.T) {
	e := newEnv(t, 1, providersim.Faults{ErrorRate: 1}, provider.Options{Attempts: 1, BreakerFailures: 1, BreakerOpenFor: time.Minute})
	if res, _ := e.svc.Capture(ctx, "o1", money.Euros(100)); res.Status != payment.StatusUnknown {
		t.Fatalf("first capture: %+v, want unknown", res)
	}
	_, err := e.svc.Capture(ctx, "o2", money.Euros(100))
	if !errors.Is(err, app.ErrProviderUnavailable) {
		t.Fatalf("capture with the breaker open: %v, want ErrProviderUnavailable", err)
	}
	if got := e.load(t, "o2"); got.Status != payment.StatusPending {
		t.Errorf("payment after a fail-fast: %+v, want pending (nothing was sent)", got)
	}
	if _, err := e.svc.Reconcile(ctx, "o1"); !errors.Is(err, app.ErrProviderUnavailable) {
		t.Errorf("reconcile with the breaker open: %v", err)
	}
}

func TestRefund(t *testing.T) {
	e := newEnv(t, 1, providersim.Faults{}, provider.Options{})
	if _, err := e.svc.Refund(ctx, "nope"); !errors.Is(err, payment.ErrNotFound) {
		t.Errorf("refund of no payment: %v, want not found", err)
	}
	if _, err := e.svc.Reconcile(ctx, "nope"); !errors.Is(err, payment.ErrNotFound) {
		t.Errorf("reconcile of no payment: %v, want not found", err)
	}
	cap, _ := e.svc.Capture(ctx, "o1", money.Euros(100))
	res, err := e.svc.Refund(ctx, "o1")
	if err != nil || res.Status != payment.StatusRefunded || res.RefundRef == "" || res.ProviderRef != cap.ProviderRef {
		t.Fatalf("refund: %+v %v", res, err)
	}
	calls := e.sim.Requests()
	if again, err := e.svc.Refund(ctx, "o1"); err != nil || again != res || e.sim.Requests() != calls {
		t.Errorf("refund again: %+v %v, want %+v without a provider call", again, err, res)
	}
	if n := len(e.sim.Ledger().Refunds); n != 1 {
		t.Errorf("ledger has %d refunds", n)
	}
}

func TestCancelBeforeCaptureChargesNothing(t *testing.T) {
	e := newEnv(t, 1, providersim.Faults{}, provider.Options{})
	if res, err := e.svc.Cancel(ctx, "o1"); err != nil || !res.Cancelled || res.Status != "" {
		t.Fatalf("cancel: %+v %v", res, err)
	}
	res, err := e.svc.Capture(ctx, "o1", money.Euros(100))
	if err != nil || res.Status != "" || !res.Cancelled {
		t.Errorf("capture after cancel: %+v %v, want nothing requested", res, err)
	}
	if e.sim.Requests() != 0 {
		t.Error("a cancelled payment reached the provider")
	}
	if res, err := e.svc.Reconcile(ctx, "o1"); err != nil || res.Status != "" {
		t.Errorf("reconcile of a called-off payment: %+v %v", res, err)
	}
}

func TestCancelAfterCaptureRefunds(t *testing.T) {
	e := newEnv(t, 1, providersim.Faults{}, provider.Options{})
	if _, err := e.svc.Capture(ctx, "o1", money.Euros(100)); err != nil {
		t.Fatalf("capture: %v", err)
	}
	res, err := e.svc.Cancel(ctx, "o1")
	if err != nil || res.Status != payment.StatusRefunded || !res.Cancelled {
		t.Fatalf("cancel: %+v %v, want refunded", res, err)
	}
	if l := e.sim.Ledger(); len(l.Refunds) != 1 {
		t.Errorf("ledger %+v, want one refund", l)
	}
}

func TestCaptureLandingAfterCancelIsRefunded(t *testing.T) {
	e := newEnv(t, 1, providersim.Faults{LostResponseRate: 1}, provider.Options{Timeout: 100 * time.Millisecond, Attempts: 1})
	if res, _ := e.svc.Capture(ctx, "o1", money.Euros(100)); res.Status != payment.StatusUnknown {
		t.Fatalf("capture: %+v, want unknown", res)
	}
	if res, err := e.svc.Cancel(ctx, "o1"); err != nil || res.Status != payment.StatusUnknown {
		t.Fatalf("cancel of an unknown payment: %+v %v", res, err)
	}
	e.faults(t, providersim.Faults{})
	res, err := e.svc.Reconcile(ctx, "o1")
	if err != nil || res.Status != payment.StatusRefunded {
		t.Fatalf("reconcile: %+v %v, want the late capture refunded", res, err)
	}
	want := []string{payment.TypeRequested, payment.TypeOutcomeUnknown, payment.TypeCancelled, payment.TypeCaptured, payment.TypeRefunded}
	if diff := cmp.Diff(want, e.types(t, "o1")); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func TestFailedRefundIsRetriedByReconcile(t *testing.T) {
	e := newEnv(t, 1, providersim.Faults{}, provider.Options{Attempts: 1, BreakerFailures: 100})
	if _, err := e.svc.Capture(ctx, "o1", money.Euros(100)); err != nil {
		t.Fatalf("capture: %v", err)
	}
	e.faults(t, providersim.Faults{LostResponseRate: 1})
	if _, err := e.svc.Cancel(ctx, "o1"); !errors.Is(err, app.ErrProviderUnavailable) {
		t.Fatalf("cancel with a lost refund answer: %v, want unavailable", err)
	}
	if p := e.load(t, "o1"); !p.RefundDue() {
		t.Fatalf("payment %+v, want refund due", p)
	}
	e.faults(t, providersim.Faults{})
	if res, err := e.svc.Reconcile(ctx, "o1"); err != nil || res.Status != payment.StatusRefunded {
		t.Fatalf("reconcile: %+v %v", res, err)
	}
	if n := len(e.sim.Ledger().Refunds); n != 1 {
		t.Errorf("ledger has %d refunds, want 1", n)
	}
}

// backlog is a fixed Backlog.
type backlog []string

func (b backlog) NeedsAttention(context.Context) ([]string, error) { return b, nil }

func TestReconcilerHealsTheBacklog(t *testing.T) {
	e := newEnv(t, 1, providersim.Faults{LostResponseRate: 1}, provider.Options{Timeout: 100 * time.Millisecond, Attempts: 1})
	if _, err := e.svc.Capture(ctx, "o1", money.Euros(100)); err != nil {
		t.Fatalf("capture: %v", err)
	}
	e.faults(t, providersim.Faults{})
	c, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- e.svc.RunReconciler(c, backlog{"o1", "missing"}, 10*time.Millisecond) }()
	deadline := time.Now().Add(5 * time.Second)
	for e.load(t, "o1").Status != payment.StatusCaptured && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("reconciler: %v", err)
	}
	if got := e.load(t, "o1").Status; got != payment.StatusCaptured {
		t.Errorf("status %s after the reconciler ran, want captured", got)
	}
}

// A crash between sending a charge and recording its answer leaves the
// payment pending while the provider did charge. If the order is then
// called off, reconciling must find that charge and refund it: the money
// never stays with a cancelled order.
func TestChargeLostInACrashIsFoundAndRefundedAfterCancel(t *testing.T) {
	e := newEnv(t, 1, providersim.Faults{}, provider.Options{})
	amount := money.Euros(2010)
	if _, err := e.repo.Save(ctx, "o1", es.NoStream, payment.Requested{OrderID: "o1", Amount: amount}); err != nil {
		t.Fatal(err)
	}
	// The charge went out and landed; the process died before recording it.
	if o, err := e.prov.Charge(ctx, "o1", amount); err != nil || o.Kind != provider.Captured {
		t.Fatalf("charge at the provider: %+v, %v", o, err)
	}
	if res, err := e.svc.Cancel(ctx, "o1"); err != nil || res.Status != payment.StatusPending {
		t.Fatalf("cancel: %+v, %v", res, err)
	}
	res, err := e.svc.Reconcile(ctx, "o1")
	if err != nil || res.Status != payment.StatusRefunded {
		t.Fatalf("reconcile: %+v, %v; want the lost charge found and refunded", res, err)
	}
	l := e.sim.Ledger()
	if len(l.Charges) != 1 || len(l.Refunds) != 1 {
		t.Fatalf("ledger: %d charges, %d refunds; want one of each", len(l.Charges), len(l.Refunds))
	}
}
