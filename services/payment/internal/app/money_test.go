package app_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/es/estest"
	"github.com/ordo-platform/ordo/pkg/money"
	"github.com/ordo-platform/ordo/services/payment"
	"github.com/ordo-platform/ordo/services/payment/internal/app"
	"github.com/ordo-platform/ordo/services/payment/internal/provider"
	"github.com/ordo-platform/ordo/services/payment/internal/providersim"
)

// moneySeed is ORDO_TEST_SEED when set (to replay a failure), else random.
func moneySeed(t *testing.T) uint64 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("ORDO_TEST_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("ORDO_TEST_SEED=%q: %v", s, err)
		}
		seed = n
	}
	t.Logf("seed %d (replay with ORDO_TEST_SEED=%d)", seed, seed)
	return seed
}

// plan is what the test does to one order besides capturing it.
type plan struct {
	id     string
	amount money.Money
	cancel bool // a concurrent cancel (the saga's compensation)
	refund bool // two concurrent refunds once captured
}

// TestMoney drives many orders through a provider that errors, loses
// answers and stalls past the client's timeout, with duplicate concurrent
// captures, cancels and refunds, then reconciles, and checks the money: at
// most one charge per order and one refund per charge, every payment
// settled, and the events agreeing with the provider's ledger.
func TestMoney(t *testing.T) {
	seed := moneySeed(t)
	faults := providersim.Faults{DeclineRate: 0.1, ErrorRate: 0.3, LostResponseRate: 0.3, LatencyMS: 5}
	e := newEnv(t, seed, faults, provider.Options{
		Timeout: 100 * time.Millisecond, Attempts: 3, Backoff: 5 * time.Millisecond,
		BreakerFailures: 5, BreakerOpenFor: 50 * time.Millisecond,
	})
	rng := rand.New(rand.NewPCG(seed, 1))
	plans := make([]plan, 200)
	for i := range plans {
		r := rng.IntN(10)
		plans[i] = plan{id: fmt.Sprintf("m%03d", i), amount: money.Euros(100 + rng.Int64N(10_000)), cancel: r < 2, refund: r >= 8}
	}

	stopSpikes := spikeLatency(t, e, faults)
	each(plans, 24, func(p plan) { drive(t, e, p) })
	stopSpikes()
	settle(t, e, plans)
	e.sim.Close()
	e.srv.Close() // waits for late requests, so the ledger below is final
	audit(t, e, plans)
	breakerOpensAndCloses(t, e)
}

// spikeLatency pushes the latency past the client timeout now and then, so
// charges time out and land after the client gave up.
func spikeLatency(t *testing.T, e *env, base providersim.Faults) func() {
	t.Helper()
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		spike := base
		spike.LatencyMS = 150
		for i := 0; ; i++ {
			f := base
			if i%3 == 2 {
				f = spike
			}
			_ = e.sim.SetFaults(f)
			select {
			case <-done:
				_ = e.sim.SetFaults(base)
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	return func() { close(done); <-stopped }
}

// drive captures an order three times at once, maybe cancels it meanwhile,
// and maybe refunds it twice at once.
func drive(t *testing.T, e *env, p plan) {
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			_, err := e.svc.Capture(ctx, p.id, p.amount)
			allow(t, "capture "+p.id, err)
		})
	}
	if p.cancel {
		wg.Go(func() {
			_, err := e.svc.Cancel(ctx, p.id)
			allow(t, "cancel "+p.id, err)
		})
	}
	wg.Wait()
	if p.refund {
		for range 2 {
			wg.Go(func() {
				_, err := e.svc.Refund(ctx, p.id)
				if !errors.Is(err, payment.ErrConflict) { // not captured (yet): fine
					allow(t, "refund "+p.id, err)
				}
			})
		}
		wg.Wait()
	}
}

// allow fails the test on any error but the provider being unavailable.
func allow(t *testing.T, what string, err error) {
	if err != nil && !errors.Is(err, app.ErrProviderUnavailable) {
		t.Errorf("%s: %v", what, err)
	}
}

// settled reports whether nothing is left to do for the order's payment.
func settled(p payment.Payment, pl plan) bool {
	switch {
	case p.Status == payment.StatusUnknown, p.RefundDue():
		return false
	case p.Status == payment.StatusPending:
		return p.Cancelled // called off before anything was sent
	case pl.refund && !pl.cancel && p.Status == payment.StatusCaptured:
		return false
	}
	return true
}

// settle reconciles (and finishes wanted refunds) until every payment is
// settled, with the faults still on.
func settle(t *testing.T, e *env, plans []plan) {
	t.Helper()
	for round := 0; ; round++ {
		var open []plan
		for _, pl := range plans {
			if !settled(e.load(t, pl.id), pl) {
				open = append(open, pl)
			}
		}
		if len(open) == 0 {
			t.Logf("settled after %d reconcile rounds", round)
			return
		}
		if round == 300 {
			t.Fatalf("%d payments still unsettled after %d rounds, e.g. %+v", len(open), round, e.load(t, open[0].id))
		}
		each(open, 16, func(pl plan) {
			res, err := e.svc.Reconcile(ctx, pl.id)
			allow(t, "reconcile "+pl.id, err)
			if err == nil && pl.refund && res.Status == payment.StatusCaptured {
				_, err = e.svc.Refund(ctx, pl.id)
				allow(t, "refund "+pl.id, err)
			}
		})
		time.Sleep(20 * time.Millisecond)
	}
}

// audit checks the events against the provider's ledger.
func audit(t *testing.T, e *env, plans []plan) {
	t.Helper()
	ledger := e.sim.Ledger()
	charges := map[string]providersim.Charge{}
	for _, c := range ledger.Charges {
		if _, dup := charges[c.IdempotencyKey]; dup {
			t.Errorf("two charges for order %s", c.IdempotencyKey)
		}
		charges[c.IdempotencyKey] = c
	}
	refunds := map[string]providersim.Refund{}
	for _, r := range ledger.Refunds {
		if _, dup := refunds[r.ChargeID]; dup {
			t.Errorf("two refunds of charge %s", r.ChargeID)
		}
		refunds[r.ChargeID] = r
	}
	var ledgerNet, eventNet int64
	for _, c := range ledger.Charges {
		if c.Status == providersim.StatusCaptured {
			ledgerNet += c.Amount.Amount
		}
	}
	for _, r := range ledger.Refunds {
		ledgerNet -= r.Amount.Amount
	}
	count := map[payment.Status]int{}
	for _, pl := range plans {
		p := e.load(t, pl.id)
		count[p.Status]++
		c, charged := charges[pl.id]
		r, refunded := refunds[c.ID]
		switch p.Status {
		case payment.StatusCaptured, payment.StatusRefunded:
			if !charged || c.Status != providersim.StatusCaptured || c.ID != p.ProviderRef || c.Amount != p.Amount {
				t.Errorf("%s: events say %s as %s for %v; ledger has %+v", pl.id, p.Status, p.ProviderRef, p.Amount, c)
			}
			if (p.Status == payment.StatusRefunded) != refunded || (refunded && r.ID != p.RefundRef) {
				t.Errorf("%s: events say %s (refund %q); ledger refund %+v", pl.id, p.Status, p.RefundRef, r)
			}
			if p.Status == payment.StatusCaptured {
				eventNet += p.Amount.Amount
			}
		case payment.StatusDeclined:
			if !charged || c.Status != providersim.StatusDeclined {
				t.Errorf("%s: events say declined; ledger has %+v", pl.id, c)
			}
		default: // called off before anything was sent
			if charged || !p.Cancelled {
				t.Errorf("%s: payment %+v; ledger has %+v", pl.id, p, c)
			}
		}
		if p.Cancelled && p.Status == payment.StatusCaptured {
			t.Errorf("%s: cancelled but still captured", pl.id)
		}
	}
	if ledgerNet != eventNet {
		t.Errorf("captured minus refunded: ledger %d, events %d", ledgerNet, eventNet)
	}
	unknowns := estest.ReadAll(t, e.store, es.Start, es.Filter{Types: []string{payment.TypeOutcomeUnknown}})
	t.Logf("payments by status %v; %d outcomes were unknown; %d charges and %d refunds in the ledger; %d provider calls",
		count, len(unknowns), len(ledger.Charges), len(ledger.Refunds), e.sim.Requests())
	if len(unknowns) == 0 || count[payment.StatusDeclined] == 0 || count[payment.StatusRefunded] == 0 {
		t.Error("the faults did not produce unknown outcomes, declines and refunds; the test proved little")
	}
}

// breakerOpensAndCloses: a provider that keeps failing opens the breaker;
// once it recovers the breaker closes again.
func breakerOpensAndCloses(t *testing.T, e *env) {
	t.Helper()
	sim, err := providersim.New(providersim.Options{Faults: providersim.Faults{ErrorRate: 1}})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = newServer(t, sim)
	prov, err := provider.New(e.srv.URL, provider.Options{Backoff: time.Millisecond, BreakerFailures: 5, BreakerOpenFor: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	reg := es.NewRegistry()
	payment.Register(reg)
	svc := app.New(e.store, reg, prov, quiet)
	for i := 0; prov.Breaker().State != "open"; i++ {
		if i == 10 {
			t.Fatalf("breaker %+v after %d failing captures, want open", prov.Breaker(), i)
		}
		_, _ = svc.Capture(ctx, fmt.Sprintf("b%d", i), money.Euros(100))
	}
	if _, err := svc.Capture(ctx, "b-open", money.Euros(100)); !errors.Is(err, app.ErrProviderUnavailable) {
		t.Errorf("capture with the breaker open: %v", err)
	}
	_ = sim.SetFaults(providersim.Faults{})
	time.Sleep(150 * time.Millisecond)
	if res, err := svc.Reconcile(ctx, "b-open"); err != nil || res.Status != payment.StatusCaptured {
		t.Errorf("reconcile after recovery: %+v %v", res, err)
	}
	if got := prov.Breaker(); got.State != "closed" {
		t.Errorf("breaker %+v after recovery, want closed", got)
	}
}

// each runs f for every item, at most n at a time.
func each[T any](items []T, n int, f func(T)) {
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for _, it := range items {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			f(it)
		})
	}
	wg.Wait()
}
