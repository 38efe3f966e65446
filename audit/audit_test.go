package audit_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/money"

	"github.com/ordo-platform/ordo/audit"
	"github.com/ordo-platform/ordo/audit/internal/shoptest"
	"github.com/ordo-platform/ordo/services/inventory"
	"github.com/ordo-platform/ordo/services/notify"
	"github.com/ordo-platform/ordo/services/order"
	"github.com/ordo-platform/ordo/services/payment"
)

// want is an expected violation: check and subject exactly, the detail by
// a telling fragment.
type want struct{ Check, Subject, Detail string }

// expect fails unless got is exactly the wanted violations, in order.
func expect(t *testing.T, got []audit.Violation, wants ...want) {
	t.Helper()
	ok := len(got) == len(wants)
	for i := 0; ok && i < len(got); i++ {
		ok = got[i].Check == wants[i].Check && got[i].Subject == wants[i].Subject && strings.Contains(got[i].Detail, wants[i].Detail)
	}
	if !ok {
		t.Errorf("violations:\n%s\nwant:\n%s", lines(got), fmt.Sprint(wants))
	}
}

func lines(vs []audit.Violation) string {
	var b strings.Builder
	for _, v := range vs {
		b.WriteString("  " + v.String() + "\n")
	}
	return b.String()
}

func TestConsistentHistoryPasses(t *testing.T) {
	shop := shoptest.New(t, shoptest.WithMailpit())
	shop.Consistent()
	rep := shop.Audit()
	expect(t, rep.Violations)
	if len(rep.Warnings) != 0 {
		t.Errorf("warnings:\n%s", lines(rep.Warnings))
	}
	wantCounts := audit.Counts{Streams: 9, Orders: 4, Confirmed: 1, Cancelled: 3, SKUs: 2, Charges: 3, Refunds: 1, Emails: 5}
	if diff := cmp.Diff(wantCounts, rep.Counts, cmpopts.IgnoreFields(audit.Counts{}, "Events")); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	if rep.Counts.Events < 20 {
		t.Errorf("counted %d events; the history has more", rep.Counts.Events)
	}
}

func TestWithoutLedgerAndMailboxWarns(t *testing.T) {
	shop := shoptest.New(t)
	shop.Consistent()
	rep, err := audit.Run(shop.Ctx, audit.Sources{Store: shop.Store})
	if err != nil {
		t.Fatal(err)
	}
	expect(t, rep.Violations)
	expect(t, rep.Warnings,
		want{audit.CheckMoney, "ledger", "money audited from the payment events alone"},
		want{audit.CheckEmail, "mailbox", "emails not audited"})
}

func TestEachInvariantViolated(t *testing.T) {
	for _, tc := range []struct {
		name    string
		breakIt func(s *shoptest.Shop)
		want    []want
	}{{
		name: "order left pending",
		breakIt: func(s *shoptest.Shop) {
			s.Reserve(s.Place("o5", "erin", order.Item{SKU: "SKU-A", Quantity: 1}))
		},
		want: []want{{audit.CheckOrders, "o5", "still pending"}},
	}, {
		name: "stock gone negative (oversold past the aggregate)",
		breakIt: func(s *shoptest.Shop) {
			o := s.Place("o6", "frank", order.Item{SKU: "SKU-B", Quantity: 10}) // 4 on hand
			s.Append("stock-SKU-B",
				inventory.StockReserved{SKU: "SKU-B", OrderID: "o6", Quantity: 10, OnHand: 4, Available: -6},
				inventory.StockCommitted{SKU: "SKU-B", OrderID: "o6", Quantity: 10, OnHand: -6, Available: -6})
			s.Capture(o)
			s.Append("order-o6", order.Confirmed{OrderID: "o6", CustomerID: "frank", Total: o.Total})
			s.Email("o6", notify.KindOrderConfirmed, "frank")
		},
		want: []want{{audit.CheckStock, "SKU-B", "went negative at 2 version(s): [v6 (stock.reserved) on_hand=4 reserved=10 available=-6 v7 (stock.committed) on_hand=-6 reserved=0 available=-6]"}},
	}, {
		name: "recorded on hand disagrees with restocks minus committed",
		breakIt: func(s *shoptest.Shop) {
			s.Append("stock-SKU-A", inventory.StockRestocked{SKU: "SKU-A", Quantity: 1, OnHand: 100, Available: 100})
		},
		want: []want{{audit.CheckStock, "SKU-A", "records on_hand=100 available=100, restocks−committed=9 available=9"}},
	}, {
		name: "reservation held by a cancelled order",
		breakIt: func(s *shoptest.Shop) {
			s.Append("stock-SKU-A", inventory.StockReserved{SKU: "SKU-A", OrderID: "o3", Quantity: 1, OnHand: 8, Available: 7})
		},
		want: []want{{audit.CheckStock, "SKU-A o3", "still held by cancelled order"}},
	}, {
		name: "secured reservation held by a cancelled order",
		breakIt: func(s *shoptest.Shop) {
			s.Append("stock-SKU-A",
				inventory.StockReserved{SKU: "SKU-A", OrderID: "o3", Quantity: 1, OnHand: 8, Available: 7},
				inventory.StockReservationSecured{SKU: "SKU-A", OrderID: "o3", Quantity: 1, OnHand: 8, Available: 7})
		},
		want: []want{{audit.CheckStock, "SKU-A o3", "still held by cancelled order"}},
	}, {
		name: "double charge",
		breakIt: func(s *shoptest.Shop) {
			s.Charge("ch_dup", "o1", audit.ChargeCaptured, money.Euros(2250))
		},
		want: []want{
			{audit.CheckMoney, "o1", "2 charges for one idempotency key: ch_o1 (captured 22.50 EUR), ch_dup (captured 22.50 EUR)"},
			{audit.CheckMoney, "o1", "ledger net charge 45.00 EUR is neither 0 nor the order total 22.50 EUR"},
			{audit.CheckMoney, "total", "ledger captured − refunded is 45.00 EUR; confirmed orders total 22.50 EUR"},
		},
	}, {
		name: "refund without charge",
		breakIt: func(s *shoptest.Shop) {
			s.Refund("re_ghost", "refund-ghost", "ch_missing", money.Euros(500))
		},
		want: []want{{audit.CheckMoney, "refund-ghost", "refund re_ghost of 5.00 EUR without a charge: charge ch_missing is not in the ledger"}},
	}, {
		name: "net charge mismatch (provider charged another amount)",
		breakIt: func(s *shoptest.Shop) {
			o := s.Place("o7", "gina", order.Item{SKU: "SKU-A", Quantity: 1})
			s.Reserve(o)
			s.Append("payment-o7", paymentCaptured(o, "ch_o7"))
			s.Charge("ch_o7", "o7", audit.ChargeCaptured, money.Euros(500))
			s.Append("stock-SKU-A", inventory.StockCommitted{SKU: "SKU-A", OrderID: "o7", Quantity: 1, OnHand: 7, Available: 7})
			s.Append("order-o7", order.Confirmed{OrderID: "o7", CustomerID: "gina", Total: o.Total})
			s.Email("o7", notify.KindOrderConfirmed, "gina")
		},
		want: []want{
			{audit.CheckMoney, "o7", "ledger net charge 5.00 EUR is neither 0 nor the order total 10.00 EUR"},
			{audit.CheckMoney, "o7", "payment.captured says 10.00 EUR ref ch_o7; the ledger charge is 5.00 EUR ref ch_o7"},
			{audit.CheckMoney, "total", "ledger captured − refunded is 27.50 EUR; confirmed orders total 32.50 EUR"},
		},
	}, {
		name: "cancelled order keeps its charge",
		breakIt: func(s *shoptest.Shop) {
			s.CancelKeepingCharge(s.Place("o8", "hank", order.Item{SKU: "SKU-A", Quantity: 1}))
		},
		want: []want{
			{audit.CheckMoney, "o8", "cancelled order still charged 10.00 EUR (ledger)"},
			{audit.CheckMoney, "total", "ledger captured − refunded is 32.50 EUR; confirmed orders total 22.50 EUR"},
		},
	}, {
		name: "capture in the events, none in the ledger",
		breakIt: func(s *shoptest.Shop) {
			s.Append("payment-o3", paymentCaptured(order.Order{ID: "o3", Total: money.Euros(1000)}, "ch_lost"))
		},
		want: []want{
			{audit.CheckMoney, "o3", "payment.captured (10.00 EUR, ref ch_lost) but the ledger has no captured charge"},
		},
	}, {
		name:    "email about an outcome that did not happen",
		breakIt: func(s *shoptest.Shop) { s.Email("o3", notify.KindOrderConfirmed, "carol") },
		want:    []want{{audit.CheckEmail, "o3 order_confirmed", "did not happen (order is cancelled)"}},
	}, {
		name: "email to another customer",
		breakIt: func(s *shoptest.Shop) {
			s.Email("o5", notify.KindOrderCancelled, "mallory")
			cancelPlaced(s, "o5", "erin")
		},
		want: []want{{audit.CheckEmail, "o5 order_cancelled", "went to [mallory@shop.ordo.test], not to customer erin"}},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			shop := shoptest.New(t)
			shop.Consistent()
			tc.breakIt(shop)
			expect(t, shop.Audit().Violations, tc.want...)
		})
	}
}

func paymentCaptured(o order.Order, ref string) payment.Captured {
	return payment.Captured{OrderID: o.ID, Amount: o.Total, ProviderRef: ref}
}

// cancelPlaced places and cancels an order with no stock or payment.
func cancelPlaced(s *shoptest.Shop, id, customer string) {
	s.Place(id, customer, order.Item{SKU: "SKU-A", Quantity: 1})
	s.Append("order-"+id, order.Cancelled{OrderID: id, CustomerID: customer, Reason: order.ReasonOutOfStock})
}

func TestTwoEmailsForOneOutcome(t *testing.T) {
	shop := shoptest.New(t, shoptest.WithMailpit())
	shop.Consistent()
	shop.Email("o1", notify.KindOrderConfirmed, "alice") // a retry that did not see the first
	rep := shop.Audit()
	expect(t, rep.Violations, want{audit.CheckEmail, "o1 order_confirmed", "2 emails for one outcome"})
	if rep.Counts.Emails != 6 {
		t.Errorf("counted %d emails, want 6", rep.Counts.Emails)
	}
}

func TestMissingEmailIsAWarning(t *testing.T) {
	shop := shoptest.New(t, shoptest.WithMailpit())
	shop.Restock("SKU-A", 1)
	shop.Append("order-o9", order.Placed{OrderID: "o9", CustomerID: "ivy", Lines: []order.Line{}, Total: money.Euros(0)},
		order.Cancelled{OrderID: "o9", CustomerID: "ivy", Reason: order.ReasonOutOfStock})
	rep := shop.Audit()
	expect(t, rep.Violations)
	expect(t, rep.Warnings, want{audit.CheckEmail, "mailbox", "notify data missing: the mailbox is empty; 1 outcome(s) want an email"})
}

func TestVersionGapInjectedWithSQL(t *testing.T) {
	shop := shoptest.New(t)
	shop.Consistent()
	shop.Exec(`INSERT INTO events (event_id, stream_id, version, category, type, data, metadata)
		VALUES (gen_random_uuid(), 'order-o1', 7, 'order', 'audit.injected', '{}', '{}')`)
	expect(t, shop.Audit().Violations, want{audit.CheckStreams, "order-o1", "versions not contiguous from 0: versions 2–6 missing"})
}

func TestDuplicateEventIDs(t *testing.T) {
	shop := shoptest.New(t)
	shop.Consistent()
	first, err := shop.Store.ReadStream(shop.Ctx, "order-o3", es.Forwards, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	// The store refuses a second copy of an id; a broken migration or a
	// hand-made repair could still leave one, which is what this simulates.
	shop.Exec(`ALTER TABLE events DROP CONSTRAINT events_event_id_key`)
	shop.Exec(`INSERT INTO events (event_id, stream_id, version, category, type, data, metadata)
		SELECT event_id, 'copy-1', 0, 'copy', 'audit.copied', data, metadata FROM events WHERE event_id = $1`, first[0].ID.String())
	expect(t, shop.Audit().Violations, want{audit.CheckStreams, first[0].ID.String(), "event id stored 2 times: order-o3 v0"})
}

func TestUndecodableEvent(t *testing.T) {
	shop := shoptest.New(t)
	shop.Exec(`INSERT INTO events (event_id, stream_id, version, category, type, data, metadata)
		VALUES (gen_random_uuid(), 'stock-SKU-Z', 0, 'stock', 'stock.restocked', '{"quantity":"many"}', '{}')`)
	expect(t, shop.Audit().Violations, want{audit.CheckStreams, "stock-SKU-Z", "does not decode"})
}

func TestQuiet(t *testing.T) {
	shop := shoptest.New(t)
	shop.Restock("SKU-A", 1)
	shop.Settle()
	v, err := audit.Quiet(shop.Ctx, shop.Store, 200*time.Millisecond, 0, 20*time.Millisecond)
	if err != nil || v != nil {
		t.Fatalf("idle store: Quiet = %v, %v; want quiet", v, err)
	}
	// The busy store is a fake whose head moves on every look: on the shared
	// test server the real head moves in jumps that other tests' transactions
	// decide, which would make this half of the test flaky.
	v, err = audit.Quiet(shop.Ctx, &movingHead{Store: shop.Store}, 200*time.Millisecond, 500*time.Millisecond, 20*time.Millisecond)
	if err != nil || v == nil || v.Check != audit.CheckQuiet || !strings.Contains(v.Detail, "not quiet: the head moved from 0.1 to ") {
		t.Fatalf("busy store: Quiet = %v, %v; want a not-quiet violation", v, err)
	}
}

// movingHead is a store whose head advances each time it is asked.
type movingHead struct {
	es.Store
	n atomic.Uint64
}

func (m *movingHead) Head(context.Context) (es.Position, error) {
	return es.Position{Prepare: m.n.Add(1)}, nil
}

func TestHeldBackReadIsNotSettled(t *testing.T) {
	shop := shoptest.New(t)
	shop.Consistent()
	shop.Settle()
	// A transaction that holds an id keeps every reader below it; events
	// committed after it are invisible to ReadAll, not to ReadStream.
	tx, err := shop.Store.Pool().Begin(shop.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	if _, err := tx.Exec(shop.Ctx, `SELECT pg_current_xact_id()`); err != nil {
		t.Fatal(err)
	}
	shop.Restock("SKU-A", 1)
	rep, err := audit.Run(shop.Ctx, shop.Sources())
	if err != nil {
		t.Fatal(err)
	}
	expect(t, rep.Violations, want{audit.CheckQuiet, "store", "not settled: 1 stream(s) have events the global read cannot see yet"})
}
