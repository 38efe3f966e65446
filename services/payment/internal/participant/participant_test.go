package participant_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/eventstore/postgres"
	"github.com/ordo-platform/ordo/pkg/money"
	"github.com/ordo-platform/ordo/pkg/testenv"
	"github.com/ordo-platform/ordo/services/payment"
	"github.com/ordo-platform/ordo/services/payment/internal/app"
	"github.com/ordo-platform/ordo/services/payment/internal/participant"
	"github.com/ordo-platform/ordo/services/payment/internal/provider"
	"github.com/ordo-platform/ordo/services/payment/internal/providersim"
)

var quiet = slog.New(slog.DiscardHandler)

type env struct {
	t     *testing.T
	store *postgres.Store
	sim   *providersim.Sim
	repo  *es.Repository[payment.Payment]
	p     *participant.Participant
}

func newEnv(t *testing.T, f providersim.Faults, reconcileEvery ...time.Duration) *env {
	t.Helper()
	store, err := postgres.Open(context.Background(), testenv.Database(t), postgres.Options{Log: quiet, PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	sim, err := providersim.New(providersim.Options{Seed: 1, Faults: f, MaxHang: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler(quiet))
	t.Cleanup(func() { sim.Close(); srv.Close() })
	prov, err := provider.New(srv.URL, provider.Options{Timeout: 100 * time.Millisecond, Attempts: 2, Backoff: 5 * time.Millisecond, BreakerFailures: 100})
	if err != nil {
		t.Fatal(err)
	}
	every := 50 * time.Millisecond
	if len(reconcileEvery) > 0 {
		every = reconcileEvery[0]
	}
	reg := es.NewRegistry()
	payment.Register(reg)
	svc := app.New(store, reg, prov, quiet)
	e := &env{t: t, store: store, sim: sim, repo: es.NewRepository(store, reg, payment.Aggregate, 0),
		p: participant.New(store, svc, participant.Options{Checkpoints: store.Checkpoints(), ReconcileEvery: every, Log: quiet})}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := e.p.Run(ctx); err != nil {
			t.Errorf("participant: %v", err)
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
	return e
}

// request appends a saga request as the order service would.
func (e *env) request(orderID, typ string) {
	e.t.Helper()
	data, _ := json.Marshal(map[string]any{"order_id": orderID, "amount": money.Euros(1250)})
	if _, err := e.store.Append(context.Background(), "fulfilment-"+orderID, es.Any,
		es.EventData{Type: typ, Data: data, Metadata: es.Metadata{CorrelationID: orderID, Actor: "order-saga"}}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) faults(f providersim.Faults) {
	e.t.Helper()
	if err := e.sim.SetFaults(f); err != nil {
		e.t.Fatal(err)
	}
}

// wait polls the order's payment until cond holds.
func (e *env) wait(orderID, what string, cond func(payment.Payment) bool) payment.Payment {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		snap, err := e.repo.Load(context.Background(), orderID)
		if err != nil {
			e.t.Fatal(err)
		}
		if cond(snap.State) {
			return snap.State
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("payment %s: %+v; want %s", orderID, snap.State, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// net is what the provider's ledger holds for the order: charged minus
// refunded; charges counts its charges.
func (e *env) net(orderID string) (net int64, charges int) {
	l := e.sim.Ledger()
	ids := map[string]bool{}
	for _, c := range l.Charges {
		if c.IdempotencyKey == orderID && c.Status == providersim.StatusCaptured {
			net += c.Amount.Amount
			charges++
			ids[c.ID] = true
		}
	}
	for _, r := range l.Refunds {
		if ids[r.ChargeID] {
			net -= r.Amount.Amount
		}
	}
	return net, charges
}

func (e *env) ledger(orderID string, wantNet int64) {
	e.t.Helper()
	if net, charges := e.net(orderID); net != wantNet || charges > 1 {
		e.t.Errorf("ledger for %s: net %d over %d charges; want net %d, at most one charge", orderID, net, charges, wantNet)
	}
}

func captured(p payment.Payment) bool { return p.Status == payment.StatusCaptured }
func refunded(p payment.Payment) bool { return p.Status == payment.StatusRefunded }

func TestCaptureOnceForDuplicates(t *testing.T) {
	e := newEnv(t, providersim.Faults{})
	e.request("o1", "fulfilment.payment_requested")
	e.request("o1", "fulfilment.payment_requested") // a duplicate
	e.wait("o1", "captured", captured)
	time.Sleep(200 * time.Millisecond)
	e.ledger("o1", 1250)
}

func TestDeclined(t *testing.T) {
	e := newEnv(t, providersim.Faults{DeclineRate: 1})
	e.request("o1", "fulfilment.payment_requested")
	e.wait("o1", "declined", func(p payment.Payment) bool { return p.Status == payment.StatusDeclined })
	e.ledger("o1", 0)
}

// The provider charged but the answer was lost: the outcome is unknown
// until the provider is asked, and the order is charged once.
func TestLostAnswerReconciled(t *testing.T) {
	e := newEnv(t, providersim.Faults{LostResponseRate: 1}, time.Hour)
	e.request("o1", "fulfilment.payment_requested")
	e.wait("o1", "unknown", func(p payment.Payment) bool { return p.Status == payment.StatusUnknown })
	e.faults(providersim.Faults{})
	e.request("o1", "fulfilment.reconcile_requested")
	e.wait("o1", "captured", captured)
	e.ledger("o1", 1250)
}

// The provider is down when the charge is asked for: the reconcile loop
// keeps asking until it answers, without a second charge.
func TestProviderDownThenBack(t *testing.T) {
	e := newEnv(t, providersim.Faults{ErrorRate: 1})
	e.request("o1", "fulfilment.payment_requested")
	time.Sleep(300 * time.Millisecond)
	e.faults(providersim.Faults{})
	e.wait("o1", "captured", captured)
	e.ledger("o1", 1250)
	deadline := time.Now().Add(5 * time.Second)
	for len(e.p.Open()) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if open := e.p.Open(); len(open) != 0 {
		t.Errorf("still open: %v", open)
	}
}

func TestRefundAfterCapture(t *testing.T) {
	e := newEnv(t, providersim.Faults{})
	e.request("o1", "fulfilment.payment_requested")
	e.wait("o1", "captured", captured)
	e.request("o1", "fulfilment.refund_requested")
	e.request("o1", "fulfilment.refund_requested")
	e.wait("o1", "refunded", refunded)
	e.ledger("o1", 0)
}

// Called off before the request arrived (the barrier): nothing is charged.
func TestCancelBeforeRequest(t *testing.T) {
	e := newEnv(t, providersim.Faults{})
	e.request("o1", "fulfilment.refund_requested")
	e.request("o1", "fulfilment.payment_requested")
	time.Sleep(300 * time.Millisecond)
	p := e.wait("o1", "cancelled", func(p payment.Payment) bool { return p.Cancelled })
	if p.Status != "" || e.sim.Requests() != 0 {
		t.Errorf("payment %+v, provider requests %d; want nothing charged", p, e.sim.Requests())
	}
}

// The charge's answer is lost, the saga gives up (payment timeout) and
// calls the payment off; reconciliation then finds the late capture and
// the barrier refunds it.
func TestLateCaptureAfterCancelIsRefunded(t *testing.T) {
	e := newEnv(t, providersim.Faults{LostResponseRate: 1}, time.Hour)
	e.request("o1", "fulfilment.payment_requested")
	e.wait("o1", "unknown", func(p payment.Payment) bool { return p.Status == payment.StatusUnknown })
	e.request("o1", "fulfilment.refund_requested")
	e.wait("o1", "cancelled", func(p payment.Payment) bool { return p.Cancelled })
	e.faults(providersim.Faults{})
	e.p.ReconcileOpen(context.Background()) // the loop's tick
	e.wait("o1", "refunded", refunded)
	e.ledger("o1", 0)
}

// The participant was behind: by the time it reads the payment request the
// saga has called the payment off. Nothing is charged.
func TestRequestAlreadyCalledOff(t *testing.T) {
	e := newEnv(t, providersim.Faults{}, time.Hour)
	data, _ := json.Marshal(map[string]any{"order_id": "o1", "amount": money.Euros(1250)})
	md := es.Metadata{CorrelationID: "o1", Actor: "order-saga"}
	if _, err := e.store.Append(context.Background(), "fulfilment-o1", es.NoStream, // one batch: seen together
		es.EventData{Type: "fulfilment.payment_requested", Data: data, Metadata: md},
		es.EventData{Type: "fulfilment.refund_requested", Data: data, Metadata: md}); err != nil {
		t.Fatal(err)
	}
	e.request("o2", "fulfilment.payment_requested")
	e.wait("o2", "captured", captured)
	e.wait("o1", "cancelled", func(p payment.Payment) bool { return p.Cancelled })
	e.ledger("o1", 0)
	if _, charges := e.net("o1"); charges != 0 {
		t.Errorf("charged a payment already called off")
	}
}
