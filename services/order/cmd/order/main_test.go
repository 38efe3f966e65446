package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/money"
	"github.com/ordo-platform/ordo/pkg/platform"
	"github.com/ordo-platform/ordo/pkg/testenv"
	"github.com/ordo-platform/ordo/services/order"
	flow "github.com/ordo-platform/ordo/services/order/saga"
)

// TestRunServesAndShutsDown starts the real binary's run on a free port,
// checks it is healthy and ready, and that cancelling it shuts it down.
func TestRunServesAndShutsDown(t *testing.T) {
	env, _ := runEnv(t)
	addr, stop := startRun(t, []string{"--http-addr", "127.0.0.1:0", "--log-level", "debug"}, env)
	for _, path := range []string{"/healthz", "/readyz", "/openapi.yaml"} {
		waitStatus(t, "http://"+addr+path, http.StatusOK)
	}
	stop()
}

func TestRunHelpAndBadConfig(t *testing.T) {
	var out strings.Builder
	if err := run(context.Background(), []string{"--help"}, func(string) string { return "" }, &out); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help: %v", err)
	}
	if !strings.Contains(out.String(), "ORDO_ORDER_HTTP_ADDR") {
		t.Errorf("usage does not name the environment variables:\n%s", out.String())
	}
	bad := map[string]string{"ORDO_ORDER_PRICE_SETTLE": "soon"}
	if err := run(context.Background(), nil, func(k string) string { return bad[k] }, io.Discard); err == nil {
		t.Fatal("a malformed duration was accepted")
	}
	if err := run(context.Background(), []string{"--log-format", "xml"}, func(string) string { return "" }, io.Discard); err == nil {
		t.Fatal("log-format xml was accepted")
	}
}

// runEnv is the environment of a run against a database and a Redis key
// space of the test's own (the Redis testenv uses); it returns the
// database's URL too.
func runEnv(t *testing.T) (map[string]string, string) {
	t.Helper()
	dbURL := testenv.Database(t)
	_, prefix := testenv.Redis(t)
	env := map[string]string{"ORDO_ORDER_DATABASE_URL": dbURL, "ORDO_ORDER_REDIS_PREFIX": prefix}
	if u := os.Getenv("ORDO_REDIS_URL"); u != "" {
		env["ORDO_ORDER_REDIS_URL"] = u
	}
	return env, dbURL
}

// waitListening reads run's JSON log until the "listening" line.
func waitListening(t *testing.T, r io.Reader) string {
	t.Helper()
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "listening" {
				lines <- rec.Addr
				return
			}
		}
		close(lines)
	}()
	select {
	case addr, ok := <-lines:
		if !ok {
			t.Fatal("run exited before listening")
		}
		return addr
	case <-time.After(30 * time.Second):
		t.Fatal("run did not start listening")
	}
	return ""
}

func waitStatus(t *testing.T, url string, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == want {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v, status %v; want %d", url, err, res, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSagaOffLeavesOrdersToARunner places an order straight into the store
// while the service runs with --saga=false: no saga starts for it. Then the
// service runs again with the saga on (the default), and the order's saga
// starts from the checkpoint: nothing placed meanwhile is lost.
func TestSagaOffLeavesOrdersToARunner(t *testing.T) {
	env, dbURL := runEnv(t)
	ctx := t.Context()
	store, closeStore, err := platform.OpenStore(ctx, dbURL, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer closeStore()

	_, stop := startRun(t, []string{"--http-addr", "127.0.0.1:0", "--saga=false"}, env)
	reg := es.NewRegistry()
	order.Register(reg)
	id := es.NewUUID().String()
	if _, err := es.NewRepository(store, reg, order.Aggregate, 3).Execute(ctx, id, func(o order.Order) ([]any, error) {
		return o.Place("alice", []order.Item{{SKU: "SKU-1", Quantity: 1}}, order.Prices{"SKU-1": money.Euros(1290)})
	}); err != nil {
		t.Fatal(err)
	}
	stream := flow.Category + "-" + id
	time.Sleep(1500 * time.Millisecond) // a running saga starts within milliseconds
	if _, err := store.ReadStream(ctx, stream, es.Forwards, 0, 1); !errors.Is(err, es.ErrStreamNotFound) {
		t.Fatalf("with --saga=false, %s: err %v, want no stream", stream, err)
	}
	stop()

	_, stop = startRun(t, []string{"--http-addr", "127.0.0.1:0"}, env)
	defer stop()
	deadline := time.Now().Add(20 * time.Second)
	for {
		evs, err := store.ReadStream(ctx, stream, es.Forwards, 0, 1)
		if err == nil && len(evs) == 1 && evs[0].Type == flow.TypeStarted {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("with the saga on, %s never started: %v %v", stream, evs, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startRun runs the service with args and env until the returned func,
// which cancels it and waits for it to return cleanly; it returns once
// the service is ready, with the address it listens on.
func startRun(t *testing.T, args []string, env map[string]string) (string, func()) {
	t.Helper()
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, args, func(k string) string { return env[k] }, pw)
		pw.Close()
	}()
	addr := waitListening(t, pr)
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	waitStatus(t, "http://"+addr+"/readyz", http.StatusOK)
	return addr, func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("run did not return after cancel")
		}
	}
}
