// Package app is the notify service's application layer: it turns order and
// payment outcomes into Notification commands, sends the emails through a
// circuit breaker, and retries what could not be sent.
//
// # What is guaranteed
//
//   - One notification per (order, kind): its id is derived from the pair and
//     Request is a no-op when it exists, so a redelivered or duplicated
//     trigger (same event twice, or the same outcome in another stream) never
//     requests a second email. The requested event's id is derived from the
//     trigger's id, so a replay appends nothing.
//   - A notification is recorded (notification.requested) before any email
//     goes out, and marked sent only after the server accepted it; a sent
//     notification is never sent again.
//   - Every email of one notification carries the same Message-ID. When a
//     Mailbox is configured (Mailpit's API in development), a notification
//     found still due after an earlier attempt is first looked up there: an
//     email the server already accepted is recorded as sent instead of
//     being sent again. That closes the window of a crash between SMTP
//     acceptance and notification.sent. Attempts are recorded in Redis
//     before the email goes out (one hash, with the time since which it
//     holds every attempt), so a first attempt skips the lookup; when Redis
//     lost the record, every notification requested before the new record
//     began is looked up.
//   - Without a Mailbox that window stays open: after such a crash, or when
//     the server's reply to DATA is lost (recorded as a failure), the email
//     is sent again, with the same Message-ID, which lets many mail systems
//     drop the duplicate. Nothing else resends.
//   - While a configured Mailbox does not answer, due notifications wait
//     (nothing is sent blind); they go out once it answers again.
//   - A trigger that cannot become a notification (a refund for an order
//     with no stream, a customer id that makes no address) is parked (see
//     package park) rather than stalling the subscription.
//   - One delivery at a time per notification, across processes, through a
//     Redis lease; a lease outlives a crash by its TTL at most.
//   - The subscription never waits for the mail server: it records requests
//     and hands ids to a delivery worker; a notification that fails, or meets
//     an open breaker, stays due and the retry sweep tries again with bounded
//     backoff.
package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sony/gobreaker/v2"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/tracing"

	"github.com/ordo-platform/ordo/services/notify"
	"github.com/ordo-platform/ordo/services/order"
	"github.com/ordo-platform/ordo/services/payment"
)

// Actor is the name notify stamps on the events it writes.
const Actor = "notify"

// handlerName derives the ids of the events notify writes in reaction to a
// trigger.
const handlerName = "notify"

// Options configure a Service. Zero values take the defaults noted.
type Options struct {
	// MailDomain is the domain of customers' addresses: <customer>@<domain>
	// (default shop.ordo.test). It also names the Message-IDs.
	MailDomain string
	// From is the sender (default "ordo shop <no-reply@<MailDomain>>").
	From string
	// BreakerFailures is how many consecutive SMTP failures open the
	// breaker (default 3).
	BreakerFailures uint32
	// BreakerCooldown is how long the breaker stays open before a trial
	// send (default 10s).
	BreakerCooldown time.Duration
	// RetryInterval is how often due notifications are swept (default 1s).
	RetryInterval time.Duration
	// MaxBackoff caps the wait between attempts of one notification
	// (default 1m); the first retry waits RetryInterval.
	MaxBackoff time.Duration
	// LeaseTTL bounds how long one delivery holds its notification
	// (default 1m); keep it above the SMTP timeout.
	LeaseTTL time.Duration
	// Prefix is the Redis key prefix of leases and the fallback checkpoint.
	Prefix string
	// Log receives progress and failures (default slog.Default()).
	Log *slog.Logger
	// AfterSend, for tests, runs after the server accepted an email and
	// before notification.sent is recorded; an error stops there, as a crash
	// would.
	AfterSend func(notificationID string) error
}

func (o Options) withDefaults() Options {
	if o.MailDomain == "" {
		o.MailDomain = "shop.ordo.test"
	}
	if o.From == "" {
		o.From = "ordo shop <no-reply@" + o.MailDomain + ">"
	}
	if o.BreakerFailures == 0 {
		o.BreakerFailures = 3
	}
	o.BreakerCooldown = orDefault(o.BreakerCooldown, 10*time.Second)
	o.RetryInterval = orDefault(o.RetryInterval, time.Second)
	o.MaxBackoff = orDefault(o.MaxBackoff, time.Minute)
	o.LeaseTTL = orDefault(o.LeaseTTL, time.Minute)
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return o
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// DueLister lists the notifications still to be sent (a read model).
type DueLister interface {
	Due(ctx context.Context) ([]string, error)
}

// Service runs the notification use cases.
type Service struct {
	store   es.Store
	repo    *es.Repository[notify.Notification]
	rdb     *redis.Client
	mailer  Mailer
	mailbox Mailbox
	breaker *gobreaker.CircuitBreaker[struct{}]
	opts    Options
	log     *slog.Logger
	kick    chan string
	backoff *backoff
}

// New returns a Service. mailbox may be nil (see the package doc for what
// that gives up).
func New(store es.Store, rdb *redis.Client, mailer Mailer, mailbox Mailbox, opts Options) *Service {
	opts = opts.withDefaults()
	reg := es.NewRegistry()
	notify.Register(reg)
	s := &Service{
		store: store, rdb: rdb, mailer: mailer, mailbox: mailbox, opts: opts, log: opts.Log,
		repo:    es.NewRepository(store, reg, notify.Aggregate, 3),
		kick:    make(chan string, 1024),
		backoff: newBackoff(opts.RetryInterval, opts.MaxBackoff),
	}
	s.breaker = gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        "smtp",
		MaxRequests: 1,
		Timeout:     opts.BreakerCooldown,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= opts.BreakerFailures },
		OnStateChange: func(name string, from, to gobreaker.State) {
			s.log.Warn("breaker state changed", "breaker", name, "from", from.String(), "to", to.String())
		},
	})
	return s
}

// Trigger is an order outcome that needs an email.
type Trigger struct {
	OrderID    string
	CustomerID string
	Kind       notify.Kind
}

// Triggers is the filter of the events notify reacts to.
var Triggers = es.Filter{Types: []string{order.TypeConfirmed, order.TypeCancelled, payment.TypeRefunded}}

// errSkip marks a trigger that cannot be turned into a notification (bad
// data from upstream); it is logged and passed over so it cannot stall the
// subscription.
var errSkip = errors.New("skip")

// TriggerOf reads the trigger in e. payment.refunded names no customer, so
// the customer comes from the order's stream.
func (s *Service) TriggerOf(ctx context.Context, e es.Event) (Trigger, error) {
	var body struct {
		OrderID    string `json:"order_id"`
		CustomerID string `json:"customer_id"`
	}
	if err := json.Unmarshal(e.Data, &body); err != nil {
		return Trigger{}, fmt.Errorf("%w: decode %s %s: %v", errSkip, e.Type, e.ID, err)
	}
	t := Trigger{OrderID: body.OrderID, CustomerID: body.CustomerID}
	switch e.Type {
	case order.TypeConfirmed:
		t.Kind = notify.KindOrderConfirmed
	case order.TypeCancelled:
		t.Kind = notify.KindOrderCancelled
	case payment.TypeRefunded:
		t.Kind = notify.KindPaymentRefunded
		customer, err := s.customerOf(ctx, body.OrderID)
		if err != nil {
			return Trigger{}, err
		}
		t.CustomerID = customer
	default:
		return Trigger{}, fmt.Errorf("%w: %s is not a trigger", errSkip, e.Type)
	}
	return t, nil
}

// customerOf reads the customer from the order's first event (every order
// event names it).
func (s *Service) customerOf(ctx context.Context, orderID string) (string, error) {
	if orderID == "" {
		return "", fmt.Errorf("%w: refund without an order id", errSkip)
	}
	events, err := s.store.ReadStream(ctx, es.StreamID(order.Category, orderID), es.Forwards, 0, 1)
	if errors.Is(err, es.ErrStreamNotFound) || (err == nil && len(events) == 0) {
		return "", fmt.Errorf("%w: refund for order %s, which does not exist", errSkip, orderID)
	}
	if err != nil {
		return "", fmt.Errorf("read order %s: %w", orderID, err)
	}
	var body struct {
		CustomerID string `json:"customer_id"`
	}
	if err := json.Unmarshal(events[0].Data, &body); err != nil || body.CustomerID == "" {
		return "", fmt.Errorf("%w: order %s names no customer", errSkip, orderID)
	}
	return body.CustomerID, nil
}

// Request records the notification for a trigger event. It returns the
// notification id; requesting an existing notification writes nothing.
func (s *Service) Request(ctx context.Context, cause es.Event, t Trigger) (string, error) {
	id := notify.ID(t.OrderID, t.Kind)
	md := tracing.CausedBy(ctx, cause, Actor)
	md.CorrelationID = t.OrderID
	ctx = es.WithMetadata(ctx, md)
	to := t.CustomerID + "@" + s.opts.MailDomain
	_, err := s.repo.Execute(ctx, id, func(n notify.Notification) ([]any, error) {
		events, err := n.Request(t.OrderID, t.Kind, t.CustomerID, to)
		return identify(events, cause.ID), err
	})
	if err != nil {
		return id, fmt.Errorf("request notification %s: %w", id, err)
	}
	return id, nil
}

// identify gives the events written in reaction to a trigger ids derived
// from it, so a replay of the trigger appends nothing.
func identify(events []any, cause es.UUID) []any {
	for i, ev := range events {
		name := handlerName
		if i > 0 {
			name = fmt.Sprintf("%s/%d", handlerName, i)
		}
		events[i] = es.Identified{ID: es.DerivedUUID(cause, name), Event: ev}
	}
	return events
}

// Load returns the notification with id.
func (s *Service) Load(ctx context.Context, id string) (notify.Notification, error) {
	snap, err := s.repo.Load(ctx, id)
	return snap.State, err
}

// Breaker reports the SMTP breaker's name, state and counts.
func (s *Service) Breaker() (string, gobreaker.State, gobreaker.Counts) {
	return s.breaker.Name(), s.breaker.State(), s.breaker.Counts()
}

// isDomainInvalid reports a trigger the domain rejects whatever the state
// (a customer id that makes no email address): retrying cannot help.
func isDomainInvalid(err error) bool { return errors.Is(err, notify.ErrInvalid) }
