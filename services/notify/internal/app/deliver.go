package app

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/tracing"

	"github.com/ordo-platform/ordo/services/notify"
)

// ErrBreakerOpen means the SMTP breaker refused the attempt; the
// notification stays due and nothing was recorded.
var ErrBreakerOpen = errors.New("smtp breaker is open")

// errBusy means another delivery holds the notification's lease.
var errBusy = errors.New("notification is being delivered elsewhere")

// Outcome says what a delivery did.
type Outcome string

// The outcomes of Deliver.
const (
	// Sent: the server accepted the email and notification.sent is recorded.
	Sent Outcome = "sent"
	// Recovered: the mailbox already had the email (an earlier attempt got
	// through); notification.sent is recorded, nothing was sent.
	Recovered Outcome = "recovered"
	// NotDue: the notification was already sent (or never requested).
	NotDue Outcome = "not-due"
)

// Deliver sends the email of notification id if it is still due, at most
// one delivery per notification at a time (a Redis lease). The delivery is
// a span continuing the trace of the event that requested the
// notification, and so is what it records.
func (s *Service) Deliver(ctx context.Context, id string) (Outcome, error) {
	release, err := s.lease(ctx, id)
	if err != nil {
		return "", err
	}
	defer release()
	n, cause, err := s.loadDue(ctx, id)
	if err != nil || !n.Due() {
		return NotDue, err
	}
	ctx, span := tracing.StartConsumer(ctx, deliveryName, cause)
	defer span.End()
	out, err := s.deliverDue(ctx, id, n, cause)
	if err == nil {
		s.log.InfoContext(ctx, "notification delivered", "notification", id, "outcome", string(out))
	}
	return out, err
}

// deliveryName names the delivery spans.
const deliveryName = "notify-delivery"

// deliverDue sends the email of the due notification n, unless the
// mailbox shows an earlier attempt got through, and records the outcome.
func (s *Service) deliverDue(ctx context.Context, id string, n notify.Notification, cause es.Event) (Outcome, error) {
	msg := compose(n, s.opts.From, s.opts.MailDomain)
	if s.mailbox != nil {
		// Any earlier attempt may have been accepted just before a crash.
		earlier, err := s.attempt(ctx, id, cause.RecordedAt)
		if err != nil {
			return "", err
		}
		if earlier {
			found, err := s.mailbox.Contains(ctx, msg.ID)
			if err != nil {
				return "", fmt.Errorf("look for %s in the mailbox: %w", msg.ID, err)
			}
			if found {
				if err := s.markSent(ctx, id, cause, msg.ID); err != nil {
					return "", err
				}
				s.forgetAttempt(ctx, id)
				return Recovered, nil
			}
		}
	}
	if err := s.send(ctx, msg); err != nil {
		if errors.Is(err, ErrBreakerOpen) {
			return "", err
		}
		return "", errors.Join(err, s.markFailed(ctx, id, cause, err))
	}
	if s.opts.AfterSend != nil {
		if err := s.opts.AfterSend(id); err != nil {
			return "", err
		}
	}
	if err := s.markSent(ctx, id, cause, msg.ID); err != nil {
		return "", err
	}
	s.forgetAttempt(ctx, id)
	return Sent, nil
}

// attemptScript records an attempt to deliver notification ARGV[1] in the
// hash KEYS[1] and returns {epoch, earlier}: the time (Unix ms, ARGV[2] when
// the hash was missing) since which the hash has recorded every attempt,
// and 1 if an attempt was already recorded. The epoch shares the hash
// with the attempts, so Redis cannot lose one without the other.
const attemptScript = `
local epoch = redis.call("HGET", KEYS[1], "_epoch")
if not epoch then
  redis.call("HSET", KEYS[1], "_epoch", ARGV[2])
  epoch = ARGV[2]
end
local fresh = redis.call("HSETNX", KEYS[1], ARGV[1], "1")
return {epoch, 1 - fresh}`

// epochSlack allows for clocks that disagree between the event store and
// this process: a notification requested up to this long after the
// attempts' record began is still looked up in the mailbox.
const epochSlack = time.Minute

// attempt records this delivery attempt and reports whether an earlier
// one may have reached the mail server: one was recorded, or the record
// is younger than the notification (Redis lost what it held), so the
// mailbox must be asked before sending. A first attempt skips the mailbox
// lookup, which is the costly part of a delivery.
func (s *Service) attempt(ctx context.Context, id string, requestedAt time.Time) (bool, error) {
	res, err := s.rdb.Eval(ctx, attemptScript, []string{s.attemptsKey()}, id, time.Now().UnixMilli()).Slice()
	if err != nil || len(res) != 2 {
		return false, fmt.Errorf("record the attempt to deliver %s: %v %w", id, res, err)
	}
	epochMS, err := strconv.ParseInt(fmt.Sprint(res[0]), 10, 64)
	if err != nil {
		return false, fmt.Errorf("attempt record of %s: epoch %v: %w", id, res[0], err)
	}
	earlier, _ := res[1].(int64)
	return earlier == 1 || requestedAt.Before(time.UnixMilli(epochMS).Add(epochSlack)), nil
}

// forgetAttempt drops the attempt record of a sent notification: it will
// not be delivered again. A failure only leaves the record behind, which
// costs a mailbox lookup if the notification were ever due again.
func (s *Service) forgetAttempt(ctx context.Context, id string) {
	if s.mailbox != nil {
		_ = s.rdb.HDel(ctx, s.attemptsKey(), id).Err()
	}
}

func (s *Service) attemptsKey() string { return s.opts.Prefix + "delivery-attempts" }

// send hands msg to the mailer through the breaker.
func (s *Service) send(ctx context.Context, msg Message) error {
	_, err := s.breaker.Execute(func() (struct{}, error) { return struct{}{}, s.mailer.Send(ctx, msg) })
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		return fmt.Errorf("%w: %v", ErrBreakerOpen, err)
	}
	return err
}

// loadDue loads the notification and the event that requested it (the
// cause of what delivery records).
func (s *Service) loadDue(ctx context.Context, id string) (notify.Notification, es.Event, error) {
	n, err := s.Load(ctx, id)
	if err != nil || !n.Due() {
		return n, es.Event{}, err
	}
	first, err := s.store.ReadStream(ctx, es.StreamID(notify.Category, id), es.Forwards, 0, 1)
	if err != nil || len(first) == 0 {
		return n, es.Event{}, fmt.Errorf("read notification %s: %w", id, err)
	}
	return n, first[0], nil
}

func (s *Service) markSent(ctx context.Context, id string, cause es.Event, messageID string) error {
	ctx = es.WithMetadata(ctx, tracing.CausedBy(ctx, cause, Actor))
	_, err := s.repo.Execute(ctx, id, func(n notify.Notification) ([]any, error) { return n.MarkSent(messageID) })
	if err != nil {
		return fmt.Errorf("mark %s sent: %w", id, err)
	}
	return nil
}

func (s *Service) markFailed(ctx context.Context, id string, cause es.Event, sendErr error) error {
	reason := sendErr.Error()
	if len(reason) > 200 {
		reason = reason[:200]
	}
	ctx = es.WithMetadata(ctx, tracing.CausedBy(ctx, cause, Actor))
	_, err := s.repo.Execute(ctx, id, func(n notify.Notification) ([]any, error) { return n.MarkFailed(reason) })
	if err != nil {
		return fmt.Errorf("mark %s failed: %w", id, err)
	}
	return nil
}

// releaseScript deletes a lease only if this holder still owns it.
const releaseScript = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`

// lease takes the notification's delivery lease or fails with errBusy.
func (s *Service) lease(ctx context.Context, id string) (func(), error) {
	key, token := s.opts.Prefix+"lease:"+id, es.NewUUID().String()
	ok, err := s.rdb.SetNX(ctx, key, token, s.opts.LeaseTTL).Result()
	if err != nil {
		return nil, fmt.Errorf("lease %s: %w", id, err)
	}
	if !ok {
		return nil, errBusy
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = s.rdb.Eval(ctx, releaseScript, []string{key}, token).Err() // expires by itself otherwise
	}, nil
}

// backoff spaces out the attempts of each notification: RetryInterval after
// the first failure, doubling up to MaxBackoff. It lives in memory, so a
// restart retries everything due at once, which is what recovery wants.
type backoff struct {
	base, max time.Duration
	mu        sync.Mutex
	next      map[string]time.Time
	fails     map[string]int
}

func newBackoff(base, max time.Duration) *backoff {
	return &backoff{base: base, max: max, next: map[string]time.Time{}, fails: map[string]int{}}
}

// ready reports whether id may be attempted at now.
func (b *backoff) ready(id string, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return !now.Before(b.next[id])
}

// failed pushes id's next attempt out.
func (b *backoff) failed(id string, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.fails[id]++
	wait := b.base
	for i := 1; i < b.fails[id] && wait < b.max; i++ {
		wait *= 2
	}
	b.next[id] = now.Add(min(wait, b.max))
}

// done forgets id.
func (b *backoff) done(id string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.next, id)
	delete(b.fails, id)
}
