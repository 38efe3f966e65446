// Package shoptest builds order histories for the auditor's tests: it runs
// the real domain aggregates (order, inventory, payment, notify) through
// es.Repository on a fresh PostgreSQL store, so a "consistent history" is
// what the services would write, and it keeps the provider's ledger and the
// emails beside it.
//
// The ledger is served by a STAND-IN for the payment provider simulator
// (an httptest server answering GET /v1/ledger in the simulator's JSON
// shape): the simulator's package is internal to services/payment and
// cannot be imported from here. Emails go to a real, private Mailpit over
// SMTP when the shop is made WithMailpit, composed as the notify service
// composes them (Message-ID derived from the notification id).
package shoptest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/eventstore/postgres"
	"github.com/ordo-platform/ordo/pkg/money"
	"github.com/ordo-platform/ordo/pkg/testenv"

	"github.com/ordo-platform/ordo/audit"
	"github.com/ordo-platform/ordo/services/inventory"
	"github.com/ordo-platform/ordo/services/notify"
	"github.com/ordo-platform/ordo/services/order"
	"github.com/ordo-platform/ordo/services/payment"
)

// MailDomain is the customers' mail domain, as the notify service's default.
const MailDomain = "shop.ordo.test"

// Prices of the test catalog.
var Prices = order.Prices{"SKU-A": money.Euros(1000), "SKU-B": money.Euros(250)}

// Shop is one test's platform state: store, ledger and mailbox.
type Shop struct {
	t           testing.TB
	Ctx         context.Context
	DatabaseURL string
	Store       *postgres.Store
	reg         *es.Registry
	orders      *es.Repository[order.Order]
	stock       *es.Repository[inventory.Stock]
	pay         *es.Repository[payment.Payment]

	mu     sync.Mutex
	ledger audit.Ledger
	// LedgerURL is the stand-in provider's base URL.
	LedgerURL string

	emails []audit.Email
	// SMTPAddr and MailpitURL are set WithMailpit.
	SMTPAddr, MailpitURL string
}

// Option configures New.
type Option func(*Shop)

// WithMailpit sends the emails to a private Mailpit instead of keeping
// them in memory.
func WithMailpit() Option {
	return func(s *Shop) { s.SMTPAddr, s.MailpitURL = testenv.Mailpit(s.t) }
}

// New returns an empty shop on a fresh database.
func New(t testing.TB, opts ...Option) *Shop {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	url := testenv.Database(t)
	store, err := postgres.Open(ctx, url, postgres.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(store.Close)
	reg := es.NewRegistry()
	order.Register(reg)
	inventory.Register(reg)
	payment.Register(reg)
	notify.Register(reg)
	s := &Shop{t: t, Ctx: ctx, DatabaseURL: url, Store: store, reg: reg,
		orders: es.NewRepository(store, reg, order.Aggregate, 3),
		stock:  es.NewRepository(store, reg, inventory.StockAggregate, 3),
		pay:    es.NewRepository(store, reg, payment.Aggregate, 3),
	}
	srv := httptest.NewServer(http.HandlerFunc(s.serveLedger))
	t.Cleanup(srv.Close)
	s.LedgerURL = srv.URL
	for _, o := range opts {
		o(s)
	}
	return s
}

// serveLedger is the stand-in provider's GET /v1/ledger.
func (s *Shop) serveLedger(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet || r.URL.Path != "/v1/ledger" {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(s.ledger)
}

// Sources returns the shop's sources for audit.Run: the store, the ledger
// over HTTP, and Mailpit over HTTP or the in-memory emails.
func (s *Shop) Sources() audit.Sources {
	src := audit.Sources{Store: s.Store, Ledger: audit.HTTPLedger{BaseURL: s.LedgerURL}, Mailbox: memMail{s}}
	if s.MailpitURL != "" {
		src.Mailbox = audit.Mailpit{BaseURL: s.MailpitURL}
	}
	return src
}

// Audit runs the audit on the shop's sources once they are settled.
func (s *Shop) Audit() audit.Report {
	s.t.Helper()
	s.Settle()
	rep, err := audit.Run(s.Ctx, s.Sources())
	if err != nil {
		s.t.Fatalf("audit: %v", err)
	}
	return rep
}

// Settle waits until every stored event is readable through ReadAll. The
// store's readers stop below the oldest transaction still running in the
// whole PostgreSQL cluster, and the test server is shared: another test's
// long transaction can hide this test's committed events for a while.
func (s *Shop) Settle() {
	s.t.Helper()
	const q = `SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint > coalesce(max(txid), 0) FROM events`
	deadline := time.Now().Add(time.Minute)
	for {
		var settled bool
		if err := s.Store.Pool().QueryRow(s.Ctx, q).Scan(&settled); err != nil {
			s.t.Fatalf("settle: %v", err)
		}
		if settled {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("settle: a transaction on the PostgreSQL server held readers back for a minute")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type memMail struct{ s *Shop }

func (m memMail) Messages(context.Context) ([]audit.Email, error) {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	return append([]audit.Email(nil), m.s.emails...), nil
}

// Charge adds a charge to the ledger and returns it.
func (s *Shop) Charge(id, key, status string, amount money.Money) audit.Charge {
	c := audit.Charge{ID: id, IdempotencyKey: key, Status: status, Amount: amount, CreatedAt: time.Now().UTC()}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ledger.Charges = append(s.ledger.Charges, c)
	return c
}

// Refund adds a refund of chargeID to the ledger and returns it.
func (s *Shop) Refund(id, key, chargeID string, amount money.Money) audit.Refund {
	r := audit.Refund{ID: id, IdempotencyKey: key, ChargeID: chargeID, Amount: amount, CreatedAt: time.Now().UTC()}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ledger.Refunds = append(s.ledger.Refunds, r)
	return r
}

// Append appends raw events, bypassing every aggregate: how a buggy
// service would write.
func (s *Shop) Append(stream string, events ...any) {
	s.t.Helper()
	data := make([]es.EventData, len(events))
	for i, ev := range events {
		d, err := s.reg.Encode(es.UUID{}, ev, es.Metadata{Actor: "shoptest"})
		if err != nil {
			s.t.Fatalf("encode: %v", err)
		}
		data[i] = d
	}
	if _, err := s.Store.Append(s.Ctx, stream, es.Any, data...); err != nil {
		s.t.Fatalf("append to %s: %v", stream, err)
	}
}

// Exec runs raw SQL on the store's database.
func (s *Shop) Exec(sql string, args ...any) {
	s.t.Helper()
	if _, err := s.Store.Pool().Exec(s.Ctx, sql, args...); err != nil {
		s.t.Fatalf("exec %q: %v", sql, err)
	}
}
