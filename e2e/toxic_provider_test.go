package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Knobs of the slow-provider scenario: ORDO_TOXIC_SLOW_FOR is how long the
// provider answers slowly, ORDO_TOXIC_SLOW_MS how slowly (payment gives a
// call 2s), ORDO_TOXIC_PAYMENT_TIMEOUT the saga's payment deadline here
// (shorter than the slow stretch, so that sagas time out inside it).
const (
	defaultToxicSlowFor        = time.Minute
	defaultToxicSlowMS         = 4000
	defaultToxicPaymentTimeout = 10 * time.Second
)

func toxicSlowEnv(t *testing.T) {
	t.Setenv("ORDO_ORDER_SAGA_PAYMENT_TIMEOUT", envDuration(t, "ORDO_TOXIC_PAYMENT_TIMEOUT", defaultToxicPaymentTimeout).String())
	// Unknown outcomes are looked up every few seconds rather than every
	// ten, so the scenario settles sooner once the provider is back.
	t.Setenv("ORDO_PAYMENT_RECONCILE_EVERY", "3s")
}

// toxicSlowProvider is the slow-provider scenario: while orders flow the
// provider simulator answers every charge, lookup and refund slower than
// payment's timeout, for a long stretch. Payment's breaker must open (seen
// through the gateway's admin status) and close again once the provider is
// back; sagas whose payment deadline passes are cancelled with
// payment_timeout, and a charge that landed after its call timed out is
// found by reconciliation and refunded; every order ends final and the
// auditor, which compares money with the provider's ledger, passes.
func toxicSlowProvider(t *testing.T, r *toxicRun) {
	ctx := t.Context()
	phases := newToxicPhases()
	p := r.bins.start(t)
	admin, customers, skus := prepareShop(t, p.GatewayURL)
	phases.done("start")

	slowFor := envDuration(t, "ORDO_TOXIC_SLOW_FOR", defaultToxicSlowFor)
	slow := loadFaults{LatencyMS: envInt(t, "ORDO_TOXIC_SLOW_MS", defaultToxicSlowMS)}
	lead := time.Duration(1000+r.rng.IntN(2000)) * time.Millisecond
	n := int((lead + slowFor + 3*time.Second).Seconds() * float64(r.rate))
	plans := planOrders(r.rng, n, skus, len(customers))
	var ids map[string]int
	var errs []error
	var wg sync.WaitGroup
	wg.Go(func() { ids, errs = placeAll(ctx, customers, plans, 16, r.rate) })

	time.Sleep(lead)
	if err := admin.setFaults(ctx, slow); err != nil {
		t.Fatalf("slow the provider down: %v", err)
	}
	seen := watchBreaker(ctx, admin, time.Now().Add(slowFor))
	if err := admin.setFaults(ctx, loadFaults{}); err != nil {
		t.Fatalf("give the provider its speed back: %v", err)
	}
	t.Logf("provider slowed (%dms) %.1fs into the load for %v; payment's breaker meanwhile: %s",
		slow.LatencyMS, lead.Seconds(), slowFor, strings.Join(seen, " → "))
	if !slices.Contains(seen, "open") {
		t.Errorf("payment's breaker never showed open while the provider was slow (states seen: %v)", seen)
	}
	wg.Wait()
	phases.done("slow+load")
	t.Logf("placed %d/%d orders", len(ids), n)
	if len(errs) > 0 {
		t.Errorf("%d orders could not be placed within their retry bound; first: %v", len(errs), errs[0])
	}
	if err := toxicWithin(ctx, time.Minute, func() error {
		if s := breakerState(ctx, admin); s != "closed" {
			return fmt.Errorf("payment's breaker is %q", s)
		}
		return nil
	}); err != nil {
		t.Errorf("the provider is back but %v a minute later", err)
	}

	statuses := waitFinal(t, customers, ids, 2*time.Minute)
	phases.done("settle")
	t.Logf("outcomes: %s", summarize(statuses))
	rep := toxicAudit(t, p, 90*time.Second)
	phases.done("quiet+audit")
	timedOut := 0
	for _, o := range statuses {
		if o.Reason == "payment_timeout" {
			timedOut++
		}
	}
	// A saga whose payment was asked for early in the slow stretch passes
	// its deadline inside it (with a shorter stretch this may not happen).
	if deadline := envDuration(t, "ORDO_TOXIC_PAYMENT_TIMEOUT", defaultToxicPaymentTimeout); timedOut == 0 && slowFor >= 2*deadline {
		t.Errorf("no saga was cancelled for payment_timeout although the provider was slow for %v, its deadline %v", slowFor, deadline)
	}
	t.Logf("audit OK (counts %+v; %d payment timeouts); %s", rep.Counts, timedOut, phases)
}

// watchBreaker polls payment's breaker through the gateway's admin status
// until until, and returns the states it went through.
func watchBreaker(ctx context.Context, admin *loadClient, until time.Time) []string {
	var seen []string
	for time.Now().Before(until) {
		if s := breakerState(ctx, admin); s != "" && (len(seen) == 0 || seen[len(seen)-1] != s) {
			seen = append(seen, s)
		}
		select {
		case <-ctx.Done():
			return seen
		case <-time.After(250 * time.Millisecond):
		}
	}
	return seen
}

// breakerState is payment's own breaker in front of the provider, as
// GET /api/v1/admin/status shows it, or "" when it cannot be read.
func breakerState(ctx context.Context, admin *loadClient) string {
	var st struct {
		Services map[string]struct {
			Breakers json.RawMessage `json:"breakers"`
		} `json:"services"`
	}
	if err := admin.call(ctx, http.MethodGet, "/api/v1/admin/status", nil, nil, &st); err != nil {
		return ""
	}
	var b struct {
		State string `json:"state"`
	}
	if json.Unmarshal(st.Services["payment"].Breakers, &b) != nil {
		return ""
	}
	return b.State
}
