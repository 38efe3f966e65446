package app_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/eventstore/postgres"
	"github.com/ordo-platform/ordo/pkg/projection"
	"github.com/ordo-platform/ordo/pkg/testenv"

	"github.com/ordo-platform/ordo/services/notify"
	"github.com/ordo-platform/ordo/services/notify/internal/app"
	"github.com/ordo-platform/ordo/services/notify/internal/mailpit"
	"github.com/ordo-platform/ordo/services/notify/internal/readmodel"
	"github.com/ordo-platform/ordo/services/order"
	"github.com/ordo-platform/ordo/services/payment"
)

const domain = "shop.ordo.test"

// env is one test's world: its own database, Redis prefix and Mailpit.
type env struct {
	store  *postgres.Store
	rdb    *redis.Client
	prefix string
	smtp   string
	mail   *mailpit.Client
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	store, err := postgres.Open(ctx, testenv.Database(t), postgres.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(store.Close)
	rdb, prefix := testenv.Redis(t)
	smtp, api := testenv.Mailpit(t)
	return &env{store: store, rdb: rdb, prefix: prefix, smtp: smtp, mail: mailpit.New(api)}
}

// instance is one running notify process (minus HTTP): the feed projection,
// the subscription and the delivery worker.
type instance struct {
	svc  *app.Service
	run  *app.Runner
	proj *projection.Runner
	stop func()
}

// config says how an instance is started.
type config struct {
	smtp      string // default: the env's Mailpit
	noMailbox bool
	mailbox   app.Mailbox // default: the env's Mailpit
	opts      app.Options
}

func (v *env) start(t *testing.T, c config) *instance {
	t.Helper()
	if c.smtp == "" {
		c.smtp = v.smtp
	}
	var mb app.Mailbox
	if !c.noMailbox {
		mb = v.mail
		if c.mailbox != nil {
			mb = c.mailbox
		}
	}
	o := c.opts
	o.Prefix, o.Log = v.prefix, slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	o.RetryInterval = orDefault(o.RetryInterval, 50*time.Millisecond)
	o.MaxBackoff = orDefault(o.MaxBackoff, 200*time.Millisecond)
	svc := app.New(v.store, v.rdb, app.SMTP{Addr: c.smtp, Timeout: 2 * time.Second}, mb, o)
	proj, err := projection.New(v.store, v.rdb, readmodel.Projection(), projection.Options{Prefix: v.prefix})
	if err != nil {
		t.Fatal(err)
	}
	runner := app.NewRunner(svc, v.store.Checkpoints(), readmodel.NewFeed(v.rdb, v.prefix))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = proj.Run(ctx) })
	wg.Go(func() { runner.Run(ctx) })
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); wg.Wait(); proj.Close() }) }
	t.Cleanup(stop)
	return &instance{svc: svc, run: runner, proj: proj, stop: stop}
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// emit appends one event with a body to a stream and returns it as stored.
func (v *env) emit(t *testing.T, stream, typ string, body any) es.AppendResult {
	t.Helper()
	data, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	md := es.Metadata{CorrelationID: stream, Actor: "test", SchemaVersion: 1}
	res, err := v.store.Append(context.Background(), stream, es.Any, es.EventData{Type: typ, Data: data, Metadata: md})
	if err != nil {
		t.Fatalf("append %s to %s: %v", typ, stream, err)
	}
	return res
}

func (v *env) placed(t *testing.T, orderID, customer string) {
	t.Helper()
	v.emit(t, "order-"+orderID, order.TypePlaced, order.Placed{OrderID: orderID, CustomerID: customer})
}

func (v *env) confirmed(t *testing.T, stream, orderID, customer string) es.AppendResult {
	t.Helper()
	return v.emit(t, stream, order.TypeConfirmed, order.Confirmed{OrderID: orderID, CustomerID: customer})
}

func (v *env) cancelled(t *testing.T, orderID, customer string) es.AppendResult {
	t.Helper()
	return v.emit(t, "order-"+orderID, order.TypeCancelled, order.Cancelled{OrderID: orderID, CustomerID: customer, Reason: "out_of_stock"})
}

func (v *env) refunded(t *testing.T, orderID string) es.AppendResult {
	t.Helper()
	return v.emit(t, "payment-"+orderID, payment.TypeRefunded, payment.Refunded{OrderID: orderID, RefundRef: "r-" + orderID})
}

// eventually polls cond every 20ms until it holds or d passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitSent waits until the notification is recorded as sent.
func waitSent(t *testing.T, in *instance, id string) notify.Notification {
	t.Helper()
	var n notify.Notification
	eventually(t, 30*time.Second, id+" sent", func() bool {
		var err error
		n, err = in.svc.Load(context.Background(), id)
		return err == nil && n.Status == notify.StatusSent
	})
	return n
}

// emails returns the messages Mailpit holds for notification id.
func (v *env) emails(t *testing.T, id string) []mailpit.Message {
	t.Helper()
	got, err := v.mail.ByMessageID(context.Background(), app.MessageID(id, domain))
	if err != nil {
		t.Fatalf("mailpit: %v", err)
	}
	return got
}

// settle gives a wrongly repeated send the chance to show.
func settle() { time.Sleep(400 * time.Millisecond) }

// waitCaughtUp waits until the subscription's checkpoint reaches pos.
func (v *env) waitCaughtUp(t *testing.T, pos es.Position) {
	t.Helper()
	eventually(t, 30*time.Second, "subscription at "+pos.String(), func() bool {
		cp, err := v.store.Checkpoints().Load(context.Background(), app.SubscriberName)
		return err == nil && cp.Compare(pos) >= 0
	})
}

// closedAddr returns a loopback address nothing listens on (a moment ago).
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// forward listens on addr and pipes every connection to target: the mail
// server coming back at the address notify was configured with.
func forward(t *testing.T, addr, target string) {
	t.Helper()
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", addr)
	if err != nil {
		t.Fatalf("listen on %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go pipe(c, target)
		}
	}()
}

func pipe(c net.Conn, target string) {
	defer func() { _ = c.Close() }()
	up, err := (&net.Dialer{}).DialContext(context.Background(), "tcp", target)
	if err != nil {
		return
	}
	defer func() { _ = up.Close() }()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
	<-done
}

// testLog sends service logs to the test log.
type testLog struct{ t *testing.T }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
