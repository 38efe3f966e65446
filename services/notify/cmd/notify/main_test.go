package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ordo-platform/ordo/pkg/devinfra"
	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/eventstore/postgres"
	"github.com/ordo-platform/ordo/pkg/testenv"
	"github.com/ordo-platform/ordo/pkg/web"

	"github.com/ordo-platform/ordo/services/notify/internal/mailpit"
	"github.com/ordo-platform/ordo/services/order"
)

// TestRunServesAndShutsDown starts the real binary's run on :0 against a
// private Mailpit: it becomes ready (store, Redis, SMTP, projection,
// subscription), serves its document, and returns nil on cancel.
func TestRunServesAndShutsDown(t *testing.T) {
	dbURL := testenv.Database(t)
	_, prefix := testenv.Redis(t) // cleans the prefix up afterwards
	smtp, api := testenv.Mailpit(t)
	env := map[string]string{
		"ORDO_NOTIFY_REDIS_PREFIX": prefix, "ORDO_NOTIFY_DATABASE_URL": dbURL,
		"ORDO_NOTIFY_REDIS_URL": envOr("ORDO_REDIS_URL", devinfra.DefaultRedisURL),
		"ORDO_NOTIFY_SMTP_ADDR": smtp, "ORDO_NOTIFY_MAILPIT_API": api,
	}
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--http-addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, pw)
		_ = pw.Close()
	}()
	base := "http://" + listenAddr(t, pr)
	waitReady(t, base)
	if status := getStatus(t, base+"/openapi.yaml"); status != http.StatusOK {
		t.Errorf("GET /openapi.yaml: %d", status)
	}
	if status := getStatus(t, base+"/customers/alice/notifications"); status != http.StatusUnauthorized {
		t.Errorf("GET a feed without identity: %d, want 401", status)
	}
	confirmAndRead(t, dbURL, api, base)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after cancel")
	}
}

// confirmAndRead confirms an order in the store and reads the email in
// Mailpit and the feed over HTTP.
func confirmAndRead(t *testing.T, dbURL, api, base string) {
	t.Helper()
	store, err := postgres.Open(context.Background(), dbURL, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	data, _ := json.Marshal(order.Confirmed{OrderID: "o-run", CustomerID: "alice"})
	res, err := store.Append(context.Background(), "order-o-run", es.Any, es.EventData{Type: order.TypeConfirmed, Data: data})
	if err != nil {
		t.Fatal(err)
	}
	mp := mailpit.New(api)
	deadline := time.Now().Add(15 * time.Second)
	for {
		got, err := mp.Search(context.Background(), "to:alice@shop.ordo.test")
		if err == nil && len(got) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no email to alice: %v %v", got, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The trigger's position says nothing about the notification events it
	// causes later, so poll the feed instead of waiting on min_position.
	alice := web.SignIdentity([]byte("ordo-dev-identity-secret"), web.Identity{User: "alice", Role: web.RoleCustomer}, time.Now())
	for {
		status, body := getFeed(t, base+"/customers/alice/notifications?min_position="+res.Position.String(), alice)
		if status == http.StatusOK && strings.Contains(body, `"kind":"order_confirmed"`) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("alice's feed: %d %s", status, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func getFeed(t *testing.T, url, identity string) (int, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	req.Header.Set(web.HeaderIdentity, identity)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestNotReadyWithoutSMTP: /readyz names the mail server when it is away.
func TestNotReadyWithoutSMTP(t *testing.T) {
	_, prefix := testenv.Redis(t)
	env := map[string]string{
		"ORDO_NOTIFY_REDIS_PREFIX": prefix, "ORDO_NOTIFY_DATABASE_URL": testenv.Database(t),
		"ORDO_NOTIFY_REDIS_URL": envOr("ORDO_REDIS_URL", devinfra.DefaultRedisURL),
		"ORDO_NOTIFY_SMTP_ADDR": "127.0.0.1:1", "ORDO_NOTIFY_MAILPIT_API": "none",
	}
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--http-addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, pw)
		_ = pw.Close()
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()
	base := "http://" + listenAddr(t, pr)
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, base+"/readyz", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), `"smtp"`) {
		t.Errorf("readyz: %d %s", resp.StatusCode, body)
	}
}

func TestHelpAndBadConfig(t *testing.T) {
	var out strings.Builder
	if err := run(context.Background(), []string{"--help"}, func(string) string { return "" }, &out); err != nil {
		t.Fatalf("--help: %v", err)
	}
	for _, flag := range []string{"smtp-addr", "mailpit-api", "mail-domain", "ORDO_NOTIFY_SMTP_ADDR"} {
		if !strings.Contains(out.String(), flag) {
			t.Errorf("usage does not mention %s", flag)
		}
	}
	bad := map[string]string{"ORDO_NOTIFY_BREAKER_FAILURES": "0"}
	if err := run(context.Background(), nil, func(k string) string { return bad[k] }, io.Discard); err == nil {
		t.Error("breaker-failures 0 accepted")
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// listenAddr reads JSON log lines until the "listening" one, then keeps
// draining the log so run never blocks on it.
func listenAddr(t *testing.T, r io.Reader) string {
	t.Helper()
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		var line struct{ Msg, Addr string }
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
			go func() { _, _ = io.Copy(io.Discard, r) }()
			return line.Addr
		}
		if strings.Contains(sc.Text(), `"level":"ERROR"`) {
			t.Log(sc.Text())
		}
	}
	t.Fatalf("run ended before listening: %v", sc.Err())
	return ""
}

// waitReady polls /readyz: the subscription and projection start just
// before the server.
func waitReady(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for getStatus(t, base+"/readyz") != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("not ready within 15s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func getStatus(t *testing.T, url string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	return resp.StatusCode
}
