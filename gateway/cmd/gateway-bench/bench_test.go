package main

import (
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestHelp(t *testing.T) {
	var out strings.Builder
	if err := run(t.Context(), []string{"--help"}, env(nil), &out); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help: %v", err)
	}
	for _, f := range []string{"-concurrency", "-duration", "-inventory-url", "ORDO_GATEWAY_BENCH_DURATION"} {
		if !strings.Contains(out.String(), f) {
			t.Errorf("--help does not mention %s", f)
		}
	}
}

func TestSettingsRefused(t *testing.T) {
	for name, args := range map[string][]string{
		"the dev database":  {"-database-url", "postgres://postgres@127.0.0.1:5432/ordo?sslmode=disable"},
		"one URL of three":  {"-inventory-url", "http://127.0.0.1:1"},
		"no concurrency":    {"-concurrency", "0"},
		"negative duration": {"-duration", "-1s"},
	} {
		if _, err := load(args, env(nil), io.Discard); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestPercentileNearestRank(t *testing.T) {
	var s []time.Duration
	for i := 1; i <= 100; i++ {
		s = append(s, time.Duration(i)*time.Millisecond)
	}
	for q, want := range map[float64]time.Duration{0.5: 50 * time.Millisecond, 0.99: 99 * time.Millisecond,
		1: 100 * time.Millisecond, 0: time.Millisecond, 0.001: time.Millisecond} {
		if got := percentile(s, q); got != want {
			t.Errorf("p%g = %v, want %v", q*100, got, want)
		}
	}
	if got := percentile(nil, 0.5); got != 0 {
		t.Errorf("empty: %v", got)
	}
}

// TestRunAgainstGivenURLs measures three tiny servers briefly: the bench
// starts nothing when it is given the URLs, and prints the table.
func TestRunAgainstGivenURLs(t *testing.T) {
	srv := func(path string, status int) string {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != path {
				http.NotFound(w, r)
				return
			}
			w.WriteHeader(status)
			_, _ = io.WriteString(w, `{"items":[]}`)
		}))
		t.Cleanup(s.Close)
		return s.URL
	}
	var out strings.Builder
	err := run(t.Context(), []string{"-concurrency", "2", "-duration", "200ms", "-warmup", "50ms",
		"-inventory-url", srv("/products", 200), "-gateway-on-url", srv("/api/v1/products", 200),
		"-gateway-off-url", srv("/api/v1/products", 200)}, env(nil), &out)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	for _, want := range []string{"| inventory direct |", "| gateway ON |", "| gateway OFF |", "(a) through the gateway",
		"(b) gateway limits+breakers ON vs OFF", "go run ./gateway/cmd/gateway-bench -concurrency 2", "CPUs (nproc)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestRunFailsWhenNothingSucceeds(t *testing.T) {
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTooManyRequests) }))
	t.Cleanup(bad.Close)
	err := run(t.Context(), []string{"-concurrency", "1", "-duration", "50ms", "-warmup", "0s",
		"-inventory-url", bad.URL, "-gateway-on-url", bad.URL, "-gateway-off-url", bad.URL}, env(nil), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "429") {
		t.Fatalf("every answer 429, yet: %v", err)
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{"-duration": "-duration", "2s": "2s", "a b": "'a b'", "it's": `'it'\''s'`, "": "''"} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
