package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ordo-platform/ordo/pkg/platform"
	"github.com/ordo-platform/ordo/pkg/testenv"
	"github.com/ordo-platform/ordo/services/payment/internal/providersim"
)

// logBuffer collects the service's log lines; safe for concurrent use.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// addr returns the address of the "listening" log line, once logged.
func (l *logBuffer) addr() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	sc := bufio.NewScanner(bytes.NewReader(l.b.Bytes()))
	for sc.Scan() {
		var line struct{ Msg, Addr string }
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
			return line.Addr
		}
	}
	return ""
}

func TestRunServesAndShutsDown(t *testing.T) {
	sim, _ := providersim.New(providersim.Options{})
	simSrv := httptest.NewServer(sim.Handler(slog.New(slog.NewTextHandler(io.Discard, nil))))
	defer simSrv.Close()
	_, prefix := testenv.Redis(t)
	redisURL := os.Getenv("ORDO_REDIS_URL")
	if redisURL == "" {
		redisURL = platform.DefaultRedisURL
	}
	env := map[string]string{"ORDO_PAYMENT_DATABASE_URL": testenv.Database(t), "ORDO_PAYMENT_REDIS_URL": redisURL}
	args := []string{"-http-addr", "127.0.0.1:0", "-redis-prefix", prefix, "-provider-url", simSrv.URL}

	ctx, cancel := context.WithCancel(context.Background())
	var logs logBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, func(k string) string { return env[k] }, &logs) }()
	var addr string
	for deadline := time.Now().Add(20 * time.Second); addr == "" && time.Now().Before(deadline); addr = logs.addr() {
		time.Sleep(20 * time.Millisecond)
	}
	if addr == "" {
		cancel()
		t.Fatalf("never listened; err %v; logs:\n%s", <-done, logs.String())
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		res, err := get(t, "http://"+addr+p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("%s: %d %s", p, res.StatusCode, b)
		}
	}
	if strings.Contains(logs.String(), env["ORDO_PAYMENT_DATABASE_URL"]) {
		t.Error("the log shows the database URL; it is a secret")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run after shutdown: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after shutdown")
	}
}

// String returns everything logged so far.
func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestRunHelpAndBadConfig(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"--help"}, func(string) string { return "" }, &out); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("--help: %v", err)
	}
	if !strings.Contains(out.String(), "ORDO_PAYMENT_PROVIDER_URL") {
		t.Errorf("help does not list ORDO_PAYMENT_PROVIDER_URL:\n%s", out.String())
	}
	for _, args := range [][]string{{"-provider-attempts", "0"}, {"-log-level", "loud"}, {"-provider-url", "nope"}} {
		if err := run(context.Background(), args, func(string) string { return "" }, io.Discard); err == nil {
			t.Errorf("run %v succeeded", args)
		}
	}
}

// get is http.Get with a context.
func get(t *testing.T, url string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	return http.DefaultClient.Do(req)
}
