package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ordo-platform/ordo/pkg/testenv"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestProductionRefusesDevDefaults(t *testing.T) {
	err := run(t.Context(), []string{"--production"}, env(nil), io.Discard, nil)
	if err == nil {
		t.Fatal("production mode started with the demo users and default secrets")
	}
	for _, want := range []string{"identity-secret", "jwt-key", "demo users"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}

// The real binary's run() on :0: it serves /healthz and /readyz and shuts
// down when its context ends.
func TestRunServesAndShutsDown(t *testing.T) {
	_, prefix := testenv.Redis(t)
	ctx, cancel := context.WithCancel(t.Context())
	addrs := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--http-addr", "127.0.0.1:0"}, env(map[string]string{"ORDO_GATEWAY_REDIS_PREFIX": prefix}),
			io.Discard, func(a net.Addr) { addrs <- a })
	}()
	var addr net.Addr
	select {
	case addr = <-addrs:
	case err := <-done:
		t.Fatalf("run: %v", err)
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		hr, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+addr.String()+p, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := http.DefaultClient.Do(hr)
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", p, res.StatusCode)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run after shutdown: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after its context ended")
	}
}
