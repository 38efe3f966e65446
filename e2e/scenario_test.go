package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ordo-platform/ordo/audit"
	"github.com/ordo-platform/ordo/pkg/money"
)

// Scenario knobs. Latencies are the provider simulator's; the payment
// service gives one provider call 2s (ORDO_PAYMENT_PROVIDER_TIMEOUT).
const (
	// scWait bounds every wait for the platform to reach a state: generous,
	// since the machine is shared; a wait that runs out fails the test.
	scWait = 90 * time.Second
	// scSlowMS holds a charge at the provider long enough for a
	// cancellation to overtake it, and below the provider timeout, so the
	// answer still arrives (scenario: late capture after cancel).
	scSlowMS = 1500
	// scStuckMS is above the provider timeout: while it is set no answer
	// reaches the payment service, so the test decides when the platform
	// may learn what the provider did.
	scStuckMS = 3000
	// scTTL is the reservation TTL of the platform that tests expiry.
	scTTL = "3s"
)

// TestSagaScenarios drives each path of the order-fulfilment saga through
// the gateway, with every service, the provider simulator, PostgreSQL and
// Redis running for real. Each scenario checks the order's final status and
// reason, its timeline (which holds the saga's own stream), the stock the
// catalog shows and the provider's ledger; the auditor closes each
// platform. Stages that faults alone cannot hold still are held by killing
// a participant (inventory or payment) until the customer has cancelled.
func TestSagaScenarios(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole platform twice")
	}
	setLoadEnv(t)
	binDir := t.TempDir()
	s := newScenarioRun(t, binDir, true)
	var confirmed scPlaced
	t.Run("happy path", func(t *testing.T) { confirmed = s.happy(t) })
	t.Run("out of stock", s.outOfStock)
	t.Run("payment declined", s.declined)
	t.Run("lost charge answer reconciled", s.lostAnswer)
	t.Run("capture lands after the cancel", s.lateCapture)
	t.Run("cancel before reservation", s.cancelBeforeReservation)
	t.Run("cancel after reservation before capture", s.cancelBeforeCapture)
	t.Run("cancel after capture before confirmation", s.cancelAfterCapture)
	t.Run("cancel while the stock is being secured", s.cancelWhileSecuring)
	t.Run("cancel after confirmation is refused", func(t *testing.T) { s.cancelConfirmed(t, confirmed) })
	t.Run("audit", func(t *testing.T) { s.p.auditQuiet(t, "scenarios") })
	t.Run("reservation expires while payment is slow", func(t *testing.T) {
		t.Setenv("ORDO_INVENTORY_RESERVATION_TTL", scTTL)
		s2 := newScenarioRun(t, binDir, false)
		s2.expiry(t)
		s2.p.auditQuiet(t, "expiry scenarios")
	})
	t.Run("reservation expires while the saga is about to confirm", func(t *testing.T) {
		t.Setenv("ORDO_INVENTORY_RESERVATION_TTL", scTTL)
		s3 := newScenarioRun(t, binDir, false)
		s3.expiryRace(t)
		s3.p.auditQuiet(t, "expiry race")
	})
}

// scenarioRun is one platform and the clients the scenarios share.
// Scenarios run one after the other, so each sees only its own changes to
// stock and faults.
type scenarioRun struct {
	p        *loadPlatform
	admin    *loadClient
	customer *loadClient
	skus     []string
	ledger   audit.HTTPLedger
	next     int
	// mark is a position at or after every write the scenarios so far
	// made: the catalog is read at it for the stock before an order. (The
	// store's head is no substitute: it stays below transactions still
	// open anywhere on the PostgreSQL server.)
	mark string
}

func newScenarioRun(t *testing.T, binDir string, build bool) *scenarioRun {
	t.Helper()
	start := time.Now()
	p := startLoadPlatform(t, binDir, build)
	t.Logf("platform started in %v (build: %v)", time.Since(start).Round(time.Millisecond), build)
	admin, customers, skus := prepareShop(t, p.GatewayURL)
	s := &scenarioRun{p: p, admin: admin, customer: customers[0], skus: skus,
		ledger: audit.HTTPLedger{BaseURL: p.URLs["provider-sim"]}}
	// One more unit of a SKU: this write comes after prepareShop's
	// restocks, so its position marks them all.
	var w struct {
		Position string `json:"position"`
	}
	err := retry(t.Context(), 30*time.Second, func(ctx context.Context) error {
		return admin.call(ctx, http.MethodPost, "/api/v1/admin/products/"+skus[0]+"/restock", nil, map[string]int{"quantity": 1}, &w)
	})
	if err != nil || w.Position == "" {
		t.Fatalf("restock %s: %v (position %q)", skus[0], err, w.Position)
	}
	s.mark = w.Position
	return s
}

// sku returns a stocked SKU, a different one each call while they last.
func (s *scenarioRun) sku() string {
	sku := s.skus[s.next%len(s.skus)]
	s.next++
	return sku
}

// scWant is what a scenario ends with.
type scWant struct {
	status, reason string
	// payment is the order view's payment status ("" = not checked).
	payment string
	// steps must appear in the timeline in this order; also in any order.
	// An entry is an event type, optionally with data fields that must
	// match: "fulfilment.compensating reason=out_of_stock".
	steps, also []string
	// absent are event types the timeline must not hold.
	absent []string
	// stock is available after minus available before, per SKU.
	stock map[string]int
	// charged and refunded count the provider's captured charges under the
	// order id and the refunds of them.
	charged, refunded int
}

// check waits for the order to end as w says and checks it.
func (s *scenarioRun) check(t *testing.T, o scPlaced, before map[string]int, w scWant) []scEvent {
	t.Helper()
	v := s.awaitOrder(t, o, fmt.Sprintf("%s with payment %q", w.status, w.payment), func(v scView) bool {
		return v.Status == w.status && (w.payment == "" || v.Payment != nil && v.Payment.Status == w.payment)
	})
	if v.Reason != w.reason {
		t.Errorf("order %s ended %s with reason %q, want %q", o.ID, v.Status, v.Reason, w.reason)
	}
	events := s.awaitTimeline(t, o.ID, slices.Concat(w.steps, w.also)...)
	if missing := scSubsequence(events, w.steps); missing != "" {
		t.Errorf("timeline of %s: %s out of order; it holds:\n%s", o.ID, missing, scTypes(events))
	}
	for _, typ := range w.absent {
		if i := scFind(events, typ); i >= 0 {
			t.Errorf("timeline of %s holds %s, which this path must not record:\n%s", o.ID, typ, scTypes(events))
		}
	}
	s.mark = events[len(events)-1].Position
	after := s.available(t, s.mark, sortedKeys(w.stock)...)
	for sku, delta := range w.stock {
		if after[sku]-before[sku] != delta {
			t.Errorf("%s available %d → %d (%+d), want %+d", sku, before[sku], after[sku], after[sku]-before[sku], delta)
		}
	}
	s.checkMoney(t, o.ID, v.Total, w.charged, w.refunded)
	t.Logf("order %s %s %s, timeline:\n%s", o.ID, v.Status, v.Reason, scTypes(events))
	return events
}

func (s *scenarioRun) happy(t *testing.T) scPlaced {
	sku := s.sku()
	before := s.available(t, "", sku)
	o := s.place(t, loadLine{SKU: sku, Quantity: 3})
	s.check(t, o, before, scWant{status: "confirmed", payment: "captured",
		steps: []string{"order.placed", "fulfilment.reservation_requested", "stock.reserved", "fulfilment.payment_requested",
			"payment.captured", "fulfilment.confirm_requested", "order.confirmed", "fulfilment.stock_commit_requested",
			"fulfilment.completed outcome=confirmed", "stock.committed"},
		absent: []string{"fulfilment.compensating", "order.cancellation_requested", "payment.refunded", "stock.released"},
		stock:  map[string]int{sku: -3}, charged: 1})
	return o
}

// outOfStock asks for more of the scarce SKU than there is, beside a line
// that can be reserved: that one is reserved and then released.
func (s *scenarioRun) outOfStock(t *testing.T) {
	sku := s.sku()
	before := s.available(t, "", sku, scarceSKU)
	o := s.place(t, loadLine{SKU: sku, Quantity: 2}, loadLine{SKU: scarceSKU, Quantity: before[scarceSKU] + 1})
	s.check(t, o, before, scWant{status: "cancelled", reason: "out_of_stock",
		steps: []string{"fulfilment.reservation_requested", "stock.reservation_rejected", "fulfilment.stock_rejected",
			"fulfilment.compensating reason=out_of_stock", "fulfilment.release_requested",
			"order.cancelled reason=out_of_stock", "fulfilment.completed reason=out_of_stock"},
		also:   []string{"stock.released sku=" + sku},
		absent: []string{"fulfilment.payment_requested", "payment.requested", "payment.captured", "order.confirmed", "stock.committed"},
		stock:  map[string]int{sku: 0, scarceSKU: 0}})
}

func (s *scenarioRun) declined(t *testing.T) {
	s.faults(t, loadFaults{DeclineRate: 1})
	sku := s.sku()
	before := s.available(t, "", sku)
	o := s.place(t, loadLine{SKU: sku, Quantity: 2})
	s.check(t, o, before, scWant{status: "cancelled", reason: "payment_declined", payment: "declined",
		steps: []string{"stock.reserved", "fulfilment.payment_requested", "payment.declined", "fulfilment.payment_declined",
			"fulfilment.compensating reason=payment_declined", "fulfilment.release_requested", "order.cancelled reason=payment_declined"},
		also:   []string{"stock.released", "fulfilment.stock_released"},
		absent: []string{"payment.captured", "fulfilment.refund_requested", "order.confirmed", "stock.committed"},
		stock:  map[string]int{sku: 0}})
}

// lostAnswer loses every answer to a charge while the provider makes it.
// Lookups are never lost, and the knob stays on until the order is
// confirmed, so the platform can only have learned of the capture by
// asking the provider under the order's idempotency key.
func (s *scenarioRun) lostAnswer(t *testing.T) {
	s.faults(t, loadFaults{LostResponseRate: 1})
	sku := s.sku()
	before := s.available(t, "", sku)
	o := s.place(t, loadLine{SKU: sku, Quantity: 1})
	s.awaitOrder(t, o, "confirmed", func(v scView) bool { return v.Final() })
	s.faults(t, loadFaults{})
	s.check(t, o, before, scWant{status: "confirmed", payment: "captured",
		steps: []string{"fulfilment.payment_requested", "payment.outcome_unknown", "fulfilment.payment_unknown",
			"payment.captured", "fulfilment.payment_captured", "order.confirmed", "stock.committed"},
		also:   []string{"fulfilment.reconcile_requested"},
		absent: []string{"fulfilment.compensating", "payment.refunded"},
		stock:  map[string]int{sku: -1}, charged: 1})
}

// lateCapture cancels while the charge is held at the provider: the
// cancellation is recorded before the capture, which is then refunded.
func (s *scenarioRun) lateCapture(t *testing.T) {
	s.faults(t, loadFaults{LatencyMS: scSlowMS})
	sku := s.sku()
	before := s.available(t, "", sku)
	o := s.place(t, loadLine{SKU: sku, Quantity: 2})
	s.awaitTimeline(t, o.ID, "fulfilment.payment_requested")
	s.cancel(t, o.ID)
	events := s.check(t, o, before, scWant{status: "cancelled", reason: "customer_cancelled", payment: "refunded",
		steps: []string{"fulfilment.payment_requested", "order.cancellation_requested",
			"fulfilment.compensating reason=customer_cancelled", "fulfilment.refund_requested", "payment.captured",
			"payment.refunded"},
		also:   []string{"order.cancelled reason=customer_cancelled", "stock.released", "fulfilment.payment_refunded"},
		absent: []string{"fulfilment.confirm_requested", "order.confirmed", "stock.committed"},
		stock:  map[string]int{sku: 0}, charged: 1, refunded: 1})
	scBefore(t, events, "order.cancellation_requested", "payment.captured",
		"the capture was recorded before the cancellation: the provider latency did not hold it back")
}

// cancelBeforeReservation holds the reservation back by keeping inventory
// down: its requests wait in the event store until it returns.
func (s *scenarioRun) cancelBeforeReservation(t *testing.T) {
	sku := s.sku()
	before := s.available(t, "", sku)
	s.down(t, "inventory")
	o := s.place(t, loadLine{SKU: sku, Quantity: 2})
	s.awaitTimeline(t, o.ID, "fulfilment.reservation_requested")
	s.cancel(t, o.ID)
	s.awaitOrder(t, o, "cancelled", func(v scView) bool { return v.Final() })
	s.up(t, "inventory")
	events := s.check(t, o, before, scWant{status: "cancelled", reason: "customer_cancelled",
		steps: []string{"fulfilment.reservation_requested", "order.cancellation_requested",
			"fulfilment.compensating reason=customer_cancelled", "fulfilment.release_requested",
			"order.cancelled reason=customer_cancelled", "fulfilment.completed reason=customer_cancelled"},
		// Inventory, back, runs the requests in order: the reserve, then
		// the release.
		also:   []string{"stock.released"},
		absent: []string{"fulfilment.payment_requested", "payment.requested", "fulfilment.refund_requested", "stock.committed"},
		stock:  map[string]int{sku: 0}})
	scBefore(t, events, "order.cancellation_requested", "stock.",
		"stock moved before the cancellation although inventory was down")
}

// cancelBeforeCapture holds the charge back by keeping payment down until
// the saga has called the payment off: back, payment honours the barrier
// and never asks the provider.
func (s *scenarioRun) cancelBeforeCapture(t *testing.T) {
	sku := s.sku()
	before := s.available(t, "", sku)
	s.down(t, "payment")
	o := s.place(t, loadLine{SKU: sku, Quantity: 2})
	s.awaitTimeline(t, o.ID, "fulfilment.payment_requested")
	s.cancel(t, o.ID)
	s.awaitTimeline(t, o.ID, "fulfilment.completed")
	s.up(t, "payment")
	s.check(t, o, before, scWant{status: "cancelled", reason: "customer_cancelled",
		steps: []string{"stock.reserved", "fulfilment.payment_requested", "order.cancellation_requested",
			"fulfilment.compensating reason=customer_cancelled", "fulfilment.release_requested", "fulfilment.refund_requested",
			"order.cancelled reason=customer_cancelled", "payment.cancelled"},
		also:   []string{"stock.released", "fulfilment.stock_released"},
		absent: []string{"payment.requested", "payment.captured", "payment.refunded", "order.confirmed", "stock.committed"},
		stock:  map[string]int{sku: 0}})
	if led := s.entries(t, o.ID); len(led.Charges) > 0 {
		t.Errorf("the provider was asked to charge a payment called off before it was made: %+v", led.Charges)
	}
}

// cancelAfterCapture cancels once the provider has taken the money but
// before the platform knows: the answer is held past the provider timeout
// until the cancellation is in.
func (s *scenarioRun) cancelAfterCapture(t *testing.T) {
	s.faults(t, loadFaults{LatencyMS: scStuckMS})
	sku := s.sku()
	before := s.available(t, "", sku)
	o := s.place(t, loadLine{SKU: sku, Quantity: 1})
	s.awaitLedger(t, o.ID, "a captured charge", func(l audit.Ledger) bool { return len(scCaptured(l)) == 1 })
	if v := s.order(t, o); v.Status != "pending" || s.has(t, o.ID, "payment.captured") {
		t.Fatalf("setup: the platform learned of the capture while the provider held its answer (order %s)", v.Status)
	}
	s.cancel(t, o.ID)
	s.awaitOrder(t, o, "cancelled", func(v scView) bool { return v.Final() })
	s.faults(t, loadFaults{})
	events := s.check(t, o, before, scWant{status: "cancelled", reason: "customer_cancelled", payment: "refunded",
		steps: []string{"fulfilment.payment_requested", "order.cancellation_requested",
			"fulfilment.compensating reason=customer_cancelled", "fulfilment.refund_requested",
			"order.cancelled reason=customer_cancelled", "payment.captured", "payment.refunded"},
		also:   []string{"stock.released", "fulfilment.payment_captured", "fulfilment.payment_refunded"},
		absent: []string{"fulfilment.confirm_requested", "order.confirmed", "stock.committed"},
		stock:  map[string]int{sku: 0}, charged: 1, refunded: 1})
	scBefore(t, events, "order.cancellation_requested", "payment.captured", "the capture was recorded before the cancellation")
}

// cancelWhileSecuring cancels after the saga learned of the capture and
// asked inventory to secure the stock, before inventory did (it is down):
// the last stage before the confirmation. The saga releases the stock and
// refunds the payment; inventory, back, secures and then releases.
func (s *scenarioRun) cancelWhileSecuring(t *testing.T) {
	sku := s.sku()
	before := s.available(t, "", sku)
	s.down(t, "payment")
	o := s.place(t, loadLine{SKU: sku, Quantity: 1})
	s.awaitTimeline(t, o.ID, "fulfilment.payment_requested")
	s.down(t, "inventory")
	s.up(t, "payment")
	s.awaitTimeline(t, o.ID, "fulfilment.stock_secure_requested")
	s.cancel(t, o.ID)
	s.awaitTimeline(t, o.ID, "fulfilment.compensating")
	s.up(t, "inventory")
	s.awaitOrder(t, o, "cancelled", func(v scView) bool { return v.Final() })
	s.check(t, o, before, scWant{status: "cancelled", reason: "customer_cancelled", payment: "refunded",
		steps: []string{"payment.captured", "fulfilment.stock_secure_requested", "order.cancellation_requested",
			"fulfilment.compensating reason=customer_cancelled", "fulfilment.release_requested", "fulfilment.refund_requested",
			"order.cancelled reason=customer_cancelled"},
		also:   []string{"stock.released", "fulfilment.stock_released", "payment.refunded", "fulfilment.payment_refunded"},
		absent: []string{"fulfilment.confirm_requested", "order.confirmed", "stock.committed"},
		stock:  map[string]int{sku: 0}, charged: 1, refunded: 1})
}

// cancelConfirmed: the confirmation is the point of no return; the API
// documents 409 (problem type conflict) for a confirmed order.
func (s *scenarioRun) cancelConfirmed(t *testing.T, o scPlaced) {
	if o.ID == "" {
		t.Skip("the happy path placed no order")
	}
	status, hdr, body := s.raw(t, http.MethodPost, "/api/v1/orders/"+o.ID+"/cancel")
	var p struct {
		Type   string `json:"type"`
		Status int    `json:"status"`
	}
	_ = json.Unmarshal(body, &p)
	if status != http.StatusConflict || !strings.HasPrefix(hdr.Get("Content-Type"), "application/problem+json") ||
		p.Type != "https://ordo.dev/problems/conflict" || p.Status != http.StatusConflict {
		t.Errorf("cancel of confirmed order %s: %d %s %s; want 409 application/problem+json of type .../conflict",
			o.ID, status, hdr.Get("Content-Type"), body)
	}
	if v := s.order(t, o); v.Status != "confirmed" {
		t.Errorf("order %s is %s after the refused cancel, want confirmed", o.ID, v.Status)
	}
	if s.has(t, o.ID, "order.cancellation_requested") {
		t.Errorf("the refused cancel of %s recorded order.cancellation_requested", o.ID)
	}
}

// expiry runs on a platform whose reservations lapse after scTTL while
// the charge is held past the provider timeout. The saga treats the
// expired reservation as lost stock (out_of_stock), and the capture that
// lands after it is refunded: the documented mismatch rule is a refund, not
// a new reservation.
func (s *scenarioRun) expiry(t *testing.T) {
	s.faults(t, loadFaults{LatencyMS: scStuckMS + 1000})
	sku := s.sku()
	before := s.available(t, "", sku)
	o := s.place(t, loadLine{SKU: sku, Quantity: 2})
	s.awaitOrder(t, o, "cancelled", func(v scView) bool { return v.Final() })
	s.awaitLedger(t, o.ID, "the late capture", func(l audit.Ledger) bool { return len(scCaptured(l)) == 1 })
	s.faults(t, loadFaults{})
	events := s.check(t, o, before, scWant{status: "cancelled", reason: "out_of_stock", payment: "refunded",
		steps: []string{"stock.reserved", "fulfilment.payment_requested", "stock.reservation_expired",
			"fulfilment.stock_released expired=true", "fulfilment.compensating reason=out_of_stock",
			"fulfilment.refund_requested", "order.cancelled reason=out_of_stock", "payment.captured", "payment.refunded"},
		also:   []string{"fulfilment.completed reason=out_of_stock", "fulfilment.payment_refunded"},
		absent: []string{"fulfilment.confirm_requested", "order.confirmed", "stock.committed", "stock.released"},
		stock:  map[string]int{sku: 0}, charged: 1, refunded: 1})
	scBefore(t, events, "stock.reservation_expired", "payment.captured", "the capture was recorded before the expiry")
}

// expiryRace lets the reservation lapse after the payment was captured
// but before the saga has read the capture: the order service is down
// meanwhile (as in an outage longer than the TTL), so on its return the
// saga reads the capture first and only then the expiry. It must not
// confirm an order whose stock is back on sale: it asks inventory to
// secure the lines, which the expiry already gave back, so the order is
// cancelled out of stock and the money refunded.
func (s *scenarioRun) expiryRace(t *testing.T) {
	sku := s.sku()
	before := s.available(t, "", sku)
	s.down(t, "payment")
	o := s.place(t, loadLine{SKU: sku, Quantity: 2})
	s.awaitTimeline(t, o.ID, "fulfilment.payment_requested")
	s.down(t, "order")
	s.up(t, "payment")
	s.awaitLedger(t, o.ID, "the capture", func(l audit.Ledger) bool { return len(scCaptured(l)) == 1 })
	scPoll(t, "the reservation to lapse", func() (bool, string) {
		now := s.available(t, "", sku)
		return now[sku] == before[sku], fmt.Sprintf("available %d, before %d", now[sku], before[sku])
	})
	s.up(t, "order")
	v := s.awaitOrder(t, o, "final", func(v scView) bool { return v.Final() })
	if notQuiet, err := audit.Quiet(t.Context(), s.p.store, 3*time.Second, time.Minute, 0); err != nil || notQuiet != nil {
		t.Fatalf("quiet: %v %v", err, notQuiet)
	}
	events := s.timeline(t, o.ID)
	t.Logf("order %s %s %s, timeline:\n%s", o.ID, v.Status, v.Reason, scTypes(events))
	scBefore(t, events, "payment.captured", "stock.reservation_expired", "setup: the reservation lapsed before the capture")
	after := s.available(t, events[len(events)-1].Position, sku)
	if v.Status != "cancelled" || v.Reason != "out_of_stock" {
		t.Errorf("order %s is %s %s; want cancelled out_of_stock (its reservation lapsed before it was secured)", o.ID, v.Status, v.Reason)
	}
	if msg := scSubsequence(events, []string{"payment.captured", "stock.reservation_expired", "fulfilment.payment_captured",
		"fulfilment.stock_secure_requested", "fulfilment.compensating reason=out_of_stock", "order.cancelled reason=out_of_stock"}); msg != "" {
		t.Errorf("timeline lacks %s in its place:\n%s", msg, scTypes(events))
	}
	for _, typ := range []string{"fulfilment.confirm_requested", "order.confirmed", "stock.reservation_secured", "stock.committed"} {
		if scFind(events, typ) >= 0 {
			t.Errorf("timeline has %s; the lapse came first", typ)
		}
	}
	if after[sku] != before[sku] {
		t.Errorf("%s available %d → %d after order %s was cancelled", sku, before[sku], after[sku], o.ID)
	}
	s.checkMoney(t, o.ID, v.Total, 1, 1)
}

// --- the platform, through the gateway ---

// scPlaced is a placed order and the position of its placement.
type scPlaced struct {
	ID       string `json:"id"`
	Position string `json:"position"`
}

// scView is the part of GET /api/v1/orders/{id} the scenarios read.
type scView struct {
	ID      string      `json:"id"`
	Status  string      `json:"status"`
	Reason  string      `json:"reason"`
	Total   money.Money `json:"total"`
	Payment *struct {
		Status string `json:"status"`
	} `json:"payment"`
}

// Final reports whether the order is confirmed or cancelled.
func (v scView) Final() bool { return v.Status == "confirmed" || v.Status == "cancelled" }

// scEvent is one timeline entry.
type scEvent struct {
	Position string         `json:"position"`
	Stream   string         `json:"stream"`
	Type     string         `json:"type"`
	Data     map[string]any `json:"data"`
}

func (s *scenarioRun) place(t *testing.T, lines ...loadLine) scPlaced {
	t.Helper()
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	key := "scenario-" + hex.EncodeToString(b)
	var o scPlaced
	err := retry(t.Context(), 30*time.Second, func(ctx context.Context) error {
		return s.customer.call(ctx, http.MethodPost, "/api/v1/orders", map[string]string{"Idempotency-Key": key},
			map[string]any{"lines": lines}, &o)
	})
	if err != nil {
		t.Fatalf("place %+v: %v", lines, err)
	}
	t.Logf("order %s: %+v", o.ID, lines)
	return o
}

func (s *scenarioRun) cancel(t *testing.T, id string) {
	t.Helper()
	err := retry(t.Context(), 30*time.Second, func(ctx context.Context) error {
		return s.customer.call(ctx, http.MethodPost, "/api/v1/orders/"+id+"/cancel", nil, nil, nil)
	})
	if err != nil {
		t.Fatalf("cancel %s: %v", id, err)
	}
}

// order reads the order view once its read model holds the placement.
func (s *scenarioRun) order(t *testing.T, o scPlaced) scView {
	t.Helper()
	var v scView
	err := retry(t.Context(), 30*time.Second, func(ctx context.Context) error {
		return s.customer.call(ctx, http.MethodGet, "/api/v1/orders/"+o.ID+"?min_position="+url.QueryEscape(o.Position), nil, nil, &v)
	})
	if err != nil {
		t.Fatalf("order %s: %v", o.ID, err)
	}
	return v
}

// awaitOrder polls the order view until done holds.
func (s *scenarioRun) awaitOrder(t *testing.T, o scPlaced, what string, done func(scView) bool) scView {
	t.Helper()
	var v scView
	scPoll(t, "order "+o.ID+" "+what, func() (bool, string) {
		v = s.order(t, o)
		return done(v), fmt.Sprintf("last seen %+v", v)
	})
	return v
}

// timeline reads the order's timeline; it is empty until the saga has
// started (the order service answers 404 until then).
func (s *scenarioRun) timeline(t *testing.T, id string) []scEvent {
	t.Helper()
	var tl struct {
		Events []scEvent `json:"events"`
	}
	err := retry(t.Context(), 30*time.Second, func(ctx context.Context) error {
		return s.customer.call(ctx, http.MethodGet, "/api/v1/orders/"+id+"/timeline", nil, nil, &tl)
	})
	var se *statusError
	if errors.As(err, &se) && se.Status == http.StatusNotFound {
		return nil
	}
	if err != nil {
		t.Fatalf("timeline of %s: %v", id, err)
	}
	return tl.Events
}

// awaitTimeline polls the timeline until it holds every wanted entry.
func (s *scenarioRun) awaitTimeline(t *testing.T, id string, want ...string) []scEvent {
	t.Helper()
	var events []scEvent
	scPoll(t, fmt.Sprintf("timeline of %s to hold %v", id, want), func() (bool, string) {
		events = s.timeline(t, id)
		for _, w := range want {
			if scFind(events, w) < 0 {
				return false, "missing " + w + "; it holds:\n" + scTypes(events)
			}
		}
		return true, ""
	})
	return events
}

func (s *scenarioRun) has(t *testing.T, id, typ string) bool {
	t.Helper()
	return scFind(s.timeline(t, id), typ) >= 0
}

// available reads the SKUs' available counts from the catalog once its
// read model has caught up with at (a position; "" = the mark).
func (s *scenarioRun) available(t *testing.T, at string, skus ...string) map[string]int {
	t.Helper()
	ctx := t.Context()
	if at == "" {
		at = s.mark
	}
	out := map[string]int{}
	for _, sku := range skus {
		var p loadProduct
		// A read model that cannot catch up within its bound answers 503,
		// which retry waits out.
		err := retry(ctx, scWait, func(ctx context.Context) error {
			return s.customer.call(ctx, http.MethodGet, "/api/v1/products/"+sku+"?min_position="+url.QueryEscape(at), nil, nil, &p)
		})
		if err != nil {
			t.Fatalf("product %s at %s: %v", sku, at, err)
		}
		out[sku] = p.Available
	}
	return out
}

// raw sends an authenticated call and returns the answer as it is.
func (s *scenarioRun) raw(t *testing.T, method, path string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, s.customer.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.customer.token)
	resp, err := s.customer.hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode, resp.Header, body
}

// faults sets the provider's knobs for the rest of the scenario.
func (s *scenarioRun) faults(t *testing.T, f loadFaults) {
	t.Helper()
	if err := s.admin.setFaults(t.Context(), f); err != nil {
		t.Fatalf("set faults %+v: %v", f, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.admin.setFaults(ctx, loadFaults{}); err != nil {
			t.Errorf("clear faults: %v", err)
		}
	})
}

// down kills a service until up (or the scenario's end) starts it again.
func (s *scenarioRun) down(t *testing.T, name string) {
	t.Helper()
	if err := s.p.Kill(t.Context(), name); err != nil {
		t.Fatalf("kill %s: %v", name, err)
	}
	t.Cleanup(func() {
		if !s.p.Running(name) {
			s.up(t, name)
		}
	})
}

func (s *scenarioRun) up(t *testing.T, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := s.p.Restart(ctx, name); err != nil {
		t.Fatalf("restart %s: %v", name, err)
	}
}

// --- money ---

// entries returns the provider's charges under the order id and their refunds.
func (s *scenarioRun) entries(t *testing.T, id string) audit.Ledger {
	t.Helper()
	var led audit.Ledger
	err := retry(t.Context(), 30*time.Second, func(ctx context.Context) error {
		var err error
		led, err = s.ledger.Ledger(ctx)
		return err
	})
	if err != nil {
		t.Fatalf("ledger: %v", err)
	}
	out := audit.Ledger{}
	ids := map[string]bool{}
	for _, c := range led.Charges {
		if c.IdempotencyKey == id {
			out.Charges = append(out.Charges, c)
			ids[c.ID] = true
		}
	}
	for _, r := range led.Refunds {
		if ids[r.ChargeID] {
			out.Refunds = append(out.Refunds, r)
		}
	}
	return out
}

func (s *scenarioRun) awaitLedger(t *testing.T, id, what string, done func(audit.Ledger) bool) {
	t.Helper()
	scPoll(t, fmt.Sprintf("ledger to hold %s for %s", what, id), func() (bool, string) {
		l := s.entries(t, id)
		return done(l), fmt.Sprintf("it holds %+v", l)
	})
}

// checkMoney checks the provider's ledger for the order: charged captured
// charges of the order's total (at most one: the order id is the
// idempotency key), refunded refunds of them in full, and so the net.
func (s *scenarioRun) checkMoney(t *testing.T, id string, total money.Money, charged, refunded int) {
	t.Helper()
	var l audit.Ledger
	scPoll(t, fmt.Sprintf("ledger of %s to hold %d capture(s) and %d refund(s)", id, charged, refunded), func() (bool, string) {
		l = s.entries(t, id)
		return len(scCaptured(l)) >= charged && len(l.Refunds) >= refunded, fmt.Sprintf("it holds %+v", l)
	})
	captured := scCaptured(l)
	if len(captured) != charged || len(l.Refunds) != refunded {
		t.Errorf("ledger of %s: %d captured charge(s), %d refund(s); want %d and %d: %+v", id, len(captured), len(l.Refunds), charged, refunded, l)
	}
	var net int64
	for _, c := range captured {
		if c.Amount != total {
			t.Errorf("charge %s of %s is %s; the order's total is %s", c.ID, id, c.Amount, total)
		}
		net += c.Amount.Amount
	}
	for _, r := range l.Refunds {
		if r.Amount != total {
			t.Errorf("refund %s of %s is %s; the order's total is %s", r.ID, id, r.Amount, total)
		}
		net -= r.Amount.Amount
	}
	if want := int64(charged-refunded) * total.Amount; net != want {
		t.Errorf("net charge of %s is %d, want %d", id, net, want)
	}
}

func scCaptured(l audit.Ledger) []audit.Charge {
	var out []audit.Charge
	for _, c := range l.Charges {
		if c.Status == audit.ChargeCaptured {
			out = append(out, c)
		}
	}
	return out
}

// --- waiting and matching ---

// scPoll calls try until it reports done, failing the test with try's last
// word after scWait.
func scPoll(t *testing.T, what string, try func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(scWait)
	for {
		done, last := try()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s; %s", scWait, what, last)
		}
		select {
		case <-t.Context().Done():
			t.Fatalf("waiting for %s: %v", what, t.Context().Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// scMatch reports whether e is the entry w: "type" or "type key=value ...";
// a type ending in "." matches every type it prefixes.
func scMatch(e scEvent, w string) bool {
	typ, fields, _ := strings.Cut(w, " ")
	prefix := strings.HasSuffix(typ, ".") && strings.HasPrefix(e.Type, typ)
	if e.Type != typ && !prefix {
		return false
	}
	for _, f := range strings.Fields(fields) {
		k, v, _ := strings.Cut(f, "=")
		if got, ok := e.Data[k]; !ok || fmt.Sprint(got) != v {
			return false
		}
	}
	return true
}

func scFind(events []scEvent, w string) int {
	return slices.IndexFunc(events, func(e scEvent) bool { return scMatch(e, w) })
}

// scSubsequence returns "" when steps appear in events in this order, else
// the first step that does not.
func scSubsequence(events []scEvent, steps []string) string {
	i := 0
	for _, st := range steps {
		j := scFind(events[i:], st)
		if j < 0 {
			return st
		}
		i += j + 1
	}
	return ""
}

// scBefore checks that the first a comes before the first b: the stage
// the scenario set up was the one reached.
func scBefore(t *testing.T, events []scEvent, a, b, why string) {
	t.Helper()
	ia, ib := scFind(events, a), scFind(events, b)
	if ia < 0 || (ib >= 0 && ib < ia) {
		t.Errorf("%s (%s at %d, %s at %d):\n%s", why, a, ia, b, ib, scTypes(events))
	}
}

func scTypes(events []scEvent) string {
	var b strings.Builder
	for _, e := range events {
		fmt.Fprintf(&b, "  %s %-40s %s", e.Position, e.Type, e.Stream)
		for _, k := range []string{"reason", "outcome", "sku", "expired"} {
			if v, ok := e.Data[k]; ok {
				fmt.Fprintf(&b, " %s=%v", k, v)
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}
