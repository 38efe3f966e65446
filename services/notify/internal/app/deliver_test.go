package app_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sony/gobreaker/v2"

	"github.com/ordo-platform/ordo/pkg/es"

	"github.com/ordo-platform/ordo/services/notify"
	"github.com/ordo-platform/ordo/services/notify/internal/app"
	"github.com/ordo-platform/ordo/services/notify/internal/readmodel"
)

// TestOneEmailPerOutcome: each trigger kind yields one notification, one
// email to <customer>@domain with the derived Message-ID, and a feed entry.
func TestOneEmailPerOutcome(t *testing.T) {
	v := newEnv(t)
	in := v.start(t, config{})
	v.placed(t, "o-conf", "alice")
	v.placed(t, "o-canc", "bob")
	v.placed(t, "o-ref", "carol")
	v.confirmed(t, "order-o-conf", "o-conf", "alice")
	v.cancelled(t, "o-canc", "bob")
	v.cancelled(t, "o-ref", "carol")
	v.refunded(t, "o-ref")

	cases := []struct {
		order, customer string
		kind            notify.Kind
		subject         string
	}{
		{"o-conf", "alice", notify.KindOrderConfirmed, "Your order o-conf is confirmed"},
		{"o-canc", "bob", notify.KindOrderCancelled, "Your order o-canc was cancelled"},
		{"o-ref", "carol", notify.KindOrderCancelled, "Your order o-ref was cancelled"},
		{"o-ref", "carol", notify.KindPaymentRefunded, "Your payment for order o-ref was refunded"},
	}
	for _, c := range cases {
		id := notify.ID(c.order, c.kind)
		n := waitSent(t, in, id)
		if n.To != c.customer+"@"+domain || n.MessageID != app.MessageID(id, domain) {
			t.Errorf("%s: to %q, message id %q", id, n.To, n.MessageID)
		}
		got := v.emails(t, id)
		if len(got) != 1 {
			t.Fatalf("%s: %d emails, want 1", id, len(got))
		}
		if got[0].Subject != c.subject || len(got[0].To) != 1 || got[0].To[0].Address != n.To {
			t.Errorf("%s: email %+v", id, got[0])
		}
		h, err := v.mail.Headers(context.Background(), got[0].ID)
		if err != nil || !cmp.Equal(h["X-Ordo-Notification"], []string{id}) {
			t.Errorf("%s: headers %v (%v)", id, h, err)
		}
	}
	all, err := v.mail.Messages(context.Background())
	if err != nil || len(all) != len(cases) {
		t.Errorf("mailpit holds %d messages (%v), want %d", len(all), err, len(cases))
	}

	// The feed shows them, once the projection has seen the sent events.
	waitFor(t, in, v.lastOf(t, notify.ID("o-ref", notify.KindOrderCancelled), notify.ID("o-ref", notify.KindPaymentRefunded)))
	items, err := readmodel.NewFeed(v.rdb, v.prefix).ByCustomer(context.Background(), "carol")
	if err != nil {
		t.Fatal(err)
	}
	kinds := []notify.Kind{}
	for _, it := range items {
		if it.Status != notify.StatusSent || it.SentAt == nil || it.OrderID != "o-ref" {
			t.Errorf("carol's item %+v", it)
		}
		kinds = append(kinds, it.Kind)
	}
	if diff := cmp.Diff([]notify.Kind{notify.KindOrderCancelled, notify.KindPaymentRefunded}, kinds); diff != "" {
		t.Errorf("carol's kinds (-want +got):\n%s", diff)
	}
}

// waitFor waits until the feed projection has applied pos. (Not the
// store's Head: on a shared PostgreSQL server another client's long
// transaction can hold Head below events already written.)
func waitFor(t *testing.T, in *instance, pos es.Position) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := in.proj.WaitFor(ctx, pos); err != nil {
		t.Fatal(err)
	}
}

// TestDuplicateTriggersSendOnce: the same outcome appended to another
// stream, and every trigger redelivered by a subscriber restarted from an
// older checkpoint, still yield one email and no new events.
func TestDuplicateTriggersSendOnce(t *testing.T) {
	v := newEnv(t)
	in := v.start(t, config{})
	v.placed(t, "o-dup", "dave")
	v.confirmed(t, "order-o-dup", "o-dup", "dave")
	dup := v.confirmed(t, "saga-o-dup", "o-dup", "dave") // the same outcome, another stream, another event id
	id := notify.ID("o-dup", notify.KindOrderConfirmed)
	waitSent(t, in, id)
	v.waitCaughtUp(t, dup.Position)
	settle()
	in.stop()
	before := streamLen(t, v, id)

	// Restart from the beginning: every trigger is delivered again.
	if err := v.store.Checkpoints().Save(context.Background(), app.SubscriberName, es.Start); err != nil {
		t.Fatal(err)
	}
	again := v.start(t, config{})
	v.waitCaughtUp(t, dup.Position)
	settle()
	again.stop()

	if got := v.emails(t, id); len(got) != 1 {
		t.Errorf("%d emails, want 1", len(got))
	}
	if after := streamLen(t, v, id); after != before || before != 2 {
		t.Errorf("notification stream has %d events before the replay and %d after; want 2 (requested, sent) both times", before, after)
	}
}

// lastOf returns the latest position among the notifications' streams.
func (v *env) lastOf(t *testing.T, ids ...string) es.Position {
	t.Helper()
	var last es.Position
	for _, id := range ids {
		events, err := v.store.ReadStream(context.Background(), es.StreamID(notify.Category, id), es.Backwards, es.End, 1)
		if err != nil {
			t.Fatal(err)
		}
		if last.Less(events[0].Position) {
			last = events[0].Position
		}
	}
	return last
}

func streamLen(t *testing.T, v *env, id string) int {
	t.Helper()
	events, err := v.store.ReadStream(context.Background(), es.StreamID(notify.Category, id), es.Forwards, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	return len(events)
}

var errCrash = errors.New("simulated crash after SMTP acceptance")

// crashOnce returns an AfterSend hook that fails the first delivery after
// the server accepted it, as a crash before notification.sent would.
func crashOnce(crashed chan<- string) func(string) error {
	var done atomic.Bool
	return func(id string) error {
		if done.CompareAndSwap(false, true) {
			crashed <- id
			return errCrash
		}
		return nil
	}
}

// TestCrashAfterSendRecoversWithoutResending: the email was accepted but
// the process died before recording it; after a restart the Mailbox finds
// the Message-ID and the notification is marked sent without a second
// email.
func TestCrashAfterSendRecoversWithoutResending(t *testing.T) {
	v := newEnv(t)
	crashed := make(chan string, 1)
	// No retries in the first life: it "dies" right after the crash.
	first := v.start(t, config{opts: app.Options{AfterSend: crashOnce(crashed), RetryInterval: time.Hour}})
	v.placed(t, "o-crash", "erin")
	v.confirmed(t, "order-o-crash", "o-crash", "erin")
	id := notify.ID("o-crash", notify.KindOrderConfirmed)
	select {
	case got := <-crashed:
		if got != id {
			t.Fatalf("crashed on %s", got)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no delivery reached the server")
	}
	first.stop()
	if n, _ := first.svc.Load(context.Background(), id); n.Status != notify.StatusRequested {
		t.Fatalf("after the crash the notification is %q, want requested", n.Status)
	}
	if got := v.emails(t, id); len(got) != 1 {
		t.Fatalf("%d emails after the crash, want the 1 accepted", len(got))
	}

	second := v.start(t, config{})
	waitSent(t, second, id)
	settle()
	if got := v.emails(t, id); len(got) != 1 {
		t.Errorf("%d emails after recovery, want 1", len(got))
	}
}

// countingMailbox counts the lookups of the Mailbox it wraps.
type countingMailbox struct {
	app.Mailbox
	n atomic.Int64
}

func (c *countingMailbox) Contains(ctx context.Context, messageID string) (bool, error) {
	c.n.Add(1)
	return c.Mailbox.Contains(ctx, messageID)
}

// TestFirstAttemptSkipsTheMailbox: with no earlier attempt recorded, the
// email goes out without a mailbox lookup, and the attempt's record is
// dropped once the notification is sent.
func TestFirstAttemptSkipsTheMailbox(t *testing.T) {
	v := newEnv(t)
	mb := &countingMailbox{Mailbox: v.mail}
	inst := v.start(t, config{mailbox: mb})
	// The attempts' record begins now; a notification requested within the
	// clock slack after it is looked up, so make this one older than that.
	if err := v.rdb.HSet(context.Background(), v.prefix+"delivery-attempts", "_epoch", time.Now().Add(-time.Hour).UnixMilli()).Err(); err != nil {
		t.Fatal(err)
	}
	v.placed(t, "o-first", "gus")
	v.confirmed(t, "order-o-first", "o-first", "gus")
	id := notify.ID("o-first", notify.KindOrderConfirmed)
	waitSent(t, inst, id)
	if n := mb.n.Load(); n != 0 {
		t.Errorf("%d mailbox lookups for a first attempt, want 0", n)
	}
	if left, err := v.rdb.HExists(context.Background(), v.prefix+"delivery-attempts", id).Result(); err != nil || left {
		t.Errorf("attempt record of a sent notification still there: %v %v", left, err)
	}
	if got := v.emails(t, id); len(got) != 1 {
		t.Errorf("%d emails, want 1", len(got))
	}
}

// TestLostAttemptRecordLooksInTheMailbox: the email was accepted, the
// process died before recording it, and Redis lost the attempts' record
// (restarted empty). The new record is younger than the notification, so
// recovery looks in the mailbox and does not send again.
func TestLostAttemptRecordLooksInTheMailbox(t *testing.T) {
	v := newEnv(t)
	crashed := make(chan string, 1)
	first := v.start(t, config{opts: app.Options{AfterSend: crashOnce(crashed), RetryInterval: time.Hour}})
	v.placed(t, "o-lost", "hal")
	v.confirmed(t, "order-o-lost", "o-lost", "hal")
	id := notify.ID("o-lost", notify.KindOrderConfirmed)
	select {
	case <-crashed:
	case <-time.After(30 * time.Second):
		t.Fatal("no delivery reached the server")
	}
	first.stop()
	if err := v.rdb.Del(context.Background(), v.prefix+"delivery-attempts").Err(); err != nil {
		t.Fatal(err)
	}
	mb := &countingMailbox{Mailbox: v.mail}
	second := v.start(t, config{mailbox: mb})
	waitSent(t, second, id)
	settle()
	if mb.n.Load() == 0 {
		t.Error("recovery did not look in the mailbox although the attempts' record was lost")
	}
	if got := v.emails(t, id); len(got) != 1 {
		t.Errorf("%d emails after recovery, want 1", len(got))
	}
}

// TestCrashWithoutMailboxResends documents the window that stays open
// without a Mailbox: the email is sent again, with the same Message-ID.
func TestCrashWithoutMailboxResends(t *testing.T) {
	v := newEnv(t)
	crashed := make(chan string, 1)
	first := v.start(t, config{noMailbox: true, opts: app.Options{AfterSend: crashOnce(crashed), RetryInterval: time.Hour}})
	v.placed(t, "o-win", "fay")
	v.confirmed(t, "order-o-win", "o-win", "fay")
	id := notify.ID("o-win", notify.KindOrderConfirmed)
	select {
	case <-crashed:
	case <-time.After(30 * time.Second):
		t.Fatal("no delivery reached the server")
	}
	first.stop()
	second := v.start(t, config{noMailbox: true})
	waitSent(t, second, id)
	got := v.emails(t, id)
	if len(got) != 2 || got[0].MessageID != got[1].MessageID {
		t.Errorf("%d emails, want the documented 2 with one Message-ID", len(got))
	}
}

// TestSMTPDownOpensBreakerWithoutStalling: with nothing listening at the
// SMTP address the breaker opens, the subscription still requests every
// notification, and all emails go out once the server is back.
func TestSMTPDownOpensBreakerWithoutStalling(t *testing.T) {
	v := newEnv(t)
	addr := closedAddr(t)
	in := v.start(t, config{smtp: addr, opts: app.Options{BreakerFailures: 2, BreakerCooldown: 300 * time.Millisecond}})
	orders := []string{"o-d1", "o-d2", "o-d3", "o-d4", "o-d5"}
	var last es.AppendResult
	for _, o := range orders {
		v.placed(t, o, "gus")
		last = v.confirmed(t, "order-"+o, o, "gus")
	}
	eventually(t, 10*time.Second, "breaker open", func() bool {
		_, state, _ := in.svc.Breaker()
		return state == gobreaker.StateOpen
	})
	v.waitCaughtUp(t, last.Position) // the subscription did not stall
	for _, o := range orders {
		n, err := in.svc.Load(context.Background(), notify.ID(o, notify.KindOrderConfirmed))
		if err != nil || !n.Due() {
			t.Fatalf("%s: %+v, %v; want requested or failed", o, n, err)
		}
	}

	forward(t, addr, v.smtp) // the mail server is back
	for _, o := range orders {
		waitSent(t, in, notify.ID(o, notify.KindOrderConfirmed))
	}
	settle()
	for _, o := range orders {
		if got := v.emails(t, notify.ID(o, notify.KindOrderConfirmed)); len(got) != 1 {
			t.Errorf("%s: %d emails, want 1", o, len(got))
		}
	}
	if _, state, _ := in.svc.Breaker(); state != gobreaker.StateClosed {
		t.Errorf("breaker %s after recovery, want closed", state)
	}
	ids := make([]string, len(orders))
	for i, o := range orders {
		ids[i] = notify.ID(o, notify.KindOrderConfirmed)
	}
	waitFor(t, in, v.lastOf(t, ids...))
	if due, err := readmodel.NewFeed(v.rdb, v.prefix).Due(context.Background()); err != nil || len(due) != 0 {
		t.Errorf("due after recovery: %v, %v", due, err)
	}
}

// TestBadTriggersAreSkipped: a refund for an unknown order and a customer
// id that makes no address are logged and passed over; later triggers are
// still handled.
func TestBadTriggersAreSkipped(t *testing.T) {
	v := newEnv(t)
	in := v.start(t, config{})
	v.refunded(t, "o-ghost")
	v.confirmed(t, "order-o-bad", "o-bad", "has space")
	v.placed(t, "o-good", "hal")
	v.confirmed(t, "order-o-good", "o-good", "hal")
	waitSent(t, in, notify.ID("o-good", notify.KindOrderConfirmed))
	for _, id := range []string{notify.ID("o-ghost", notify.KindPaymentRefunded), notify.ID("o-bad", notify.KindOrderConfirmed)} {
		if n, _ := in.svc.Load(context.Background(), id); n.Status != "" {
			t.Errorf("%s: %q, want never requested", id, n.Status)
		}
	}
	if got := v.emails(t, notify.ID("o-good", notify.KindOrderConfirmed)); len(got) != 1 || !strings.Contains(got[0].Subject, "o-good") {
		t.Errorf("emails %+v", got)
	}
}
