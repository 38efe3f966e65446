package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestMain lets the test binary be the minimal proxy, as the bench's
// binary is: the bench starts it again as one.
func TestMain(m *testing.M) {
	if child, err := childMain(); child {
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

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
		"negative latency":  {"-latency-concurrency", "-1"},
		"no rounds":         {"-rounds", "0"},
		"slices too thin":   {"-duration", "50ms", "-rounds", "10"},
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

// TestResultsMerge: rounds add up to one result whose percentiles are over
// every sample of every round.
func TestResultsMerge(t *testing.T) {
	var r result
	r.add(result{target: target{Name: "x"}, OK: 2, Errors: 1, Elapsed: time.Second, FirstError: "first",
		Latencies: []time.Duration{3, 1}})
	r.add(result{target: target{Name: "x"}, OK: 2, Elapsed: time.Second, FirstError: "second", Latencies: []time.Duration{4, 2}})
	r.finish()
	if r.Name != "x" || r.OK != 4 || r.Errors != 1 || r.Throughput() != 2 || r.FirstError != "first" ||
		r.Percentile(0.5) != 2 || r.Percentile(1) != 4 {
		t.Errorf("merged: %+v", r)
	}
}

// TestRunAgainstGivenURLs measures three tiny servers briefly, and the
// minimal proxy it starts in front of the first: the bench starts no
// platform when it is given the URLs, and prints the table.
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
	for _, want := range []string{"| inventory direct |", "| minimal proxy (net/http, no middleware) | http://127.0.0.1:",
		"/api/v1/products | ", "| gateway ON |", "| gateway OFF |", "(a) through the gateway",
		"(b) gateway limits+breakers ON vs OFF", "(c) the minimal proxy (the hop alone) vs inventory direct",
		"(d) through the gateway (ON) vs the minimal proxy", "At p50 the gateway (ON) adds ",
		"go run ./gateway/cmd/gateway-bench -concurrency 2", "CPUs (nproc)", "### 2 workers", "### 1 worker",
		"### Against the targets", "with 2 workers: 5 rounds of 40ms", "with 1 worker: 5 rounds", "in 5 round-robin slices"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

// TestTargetsJudged: throughput is judged under load (the first phase),
// added p50 without queueing (the last), each against its target.
func TestTargetsJudged(t *testing.T) {
	res := func(name string, ok int, p50 time.Duration) result {
		return result{target: target{Name: name}, OK: ok, Elapsed: time.Second, Latencies: []time.Duration{p50}}
	}
	ph := func(n, on, off int, onP50 time.Duration) phase {
		return phase{Concurrency: n, Direct: res("d", 1000, time.Millisecond), Minimal: res("m", 700, 2*time.Millisecond),
			On: res("on", on, onP50), Off: res("off", off, onP50)}
	}
	// The gateway on meets all three; limits asking Redis per request miss
	// all three.
	mixed := []phase{ph(16, 600, 660, 9*time.Millisecond), ph(1, 0, 1, time.Millisecond+150*time.Microsecond)}
	mixed[0].PerRequest = res("per", 500, 0)
	mixed[1].PerRequest = res("per", 1, time.Millisecond+200*time.Microsecond)
	for _, c := range []struct {
		name   string
		phases []phase
		want   []string
	}{
		{"all met", []phase{ph(16, 600, 660, 9*time.Millisecond), ph(1, 0, 1, time.Millisecond+150*time.Microsecond)},
			[]string{"| 0.60x | 16 workers | met |", "| +150 µs | 1 worker | met |", "| 0.91x | 16 workers | met |"}},
		{"all missed", []phase{ph(16, 590, 660, time.Millisecond), ph(1, 1, 1, time.Millisecond+151*time.Microsecond)},
			[]string{"| 0.59x | 16 workers | **missed** |", "| +151 µs | 1 worker | **missed** |", "| 0.89x | 16 workers | **missed** |"}},
		{"one phase judges both", []phase{ph(4, 700, 700, time.Millisecond+100*time.Microsecond)},
			[]string{"| 0.70x | 4 workers | met |", "| +100 µs | 4 workers | met |", "| 1.00x | 4 workers | met |"}},
		{"per request judged apart", mixed, []string{
			"| through the gateway ≥ 0.6x the direct throughput | 0.60x | 16 workers | met |",
			"| at most 150 µs added at p50 | +150 µs | 1 worker | met |",
			"| limits and breakers on ≥ 0.9x off | 0.91x | 16 workers | met |",
			"| limits asking Redis per request: through the gateway ≥ 0.6x the direct throughput | 0.50x | 16 workers | **missed** |",
			"| limits asking Redis per request: at most 150 µs added at p50 | +200 µs | 1 worker | **missed** |",
			"| limits asking Redis per request: limits and breakers on ≥ 0.9x off | 0.76x | 16 workers | **missed** |"}},
	} {
		var b strings.Builder
		if err := (report{Phases: c.phases}).write(&b); err != nil {
			t.Fatal(err)
		}
		for _, w := range c.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s: no %q in\n%s", c.name, w, b.String())
			}
		}
		if perRequest := strings.Contains(b.String(), "per request:"); perRequest != (c.phases[0].PerRequest.Name != "") {
			t.Errorf("%s: rows for limits asking Redis per request: %v", c.name, perRequest)
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

// TestMinimalProxyForwards serves the proxy in this process: GET
// /api/v1/products is the upstream's answer, status, type and body;
// anything else is not forwarded; an upstream that does not answer is 502.
func TestMinimalProxyForwards(t *testing.T) {
	var hits atomic.Int32
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path != "/products" || r.Method != http.MethodGet {
			t.Errorf("upstream got %s %s", r.Method, r.URL.Path)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTeapot)
		_, _ = io.WriteString(w, `[{"sku":"A"}]`)
	}))
	t.Cleanup(up.Close)
	serve := func(upstream string) string {
		ln, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- serveMinimalProxy(ctx, ln, upstream) }()
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("shutdown: %v", err)
			}
		})
		return "http://" + ln.Addr().String()
	}
	get := func(method, url string) (int, string, string) {
		req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = res.Body.Close() }()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header.Get("Content-Type"), string(b)
	}
	proxy := serve(up.URL + "/products")
	if status, ct, body := get(http.MethodGet, proxy+"/api/v1/products"); status != http.StatusTeapot ||
		ct != "application/json" || body != `[{"sku":"A"}]` {
		t.Errorf("forwarded: %d %q %q", status, ct, body)
	}
	for _, c := range [][2]string{{http.MethodGet, "/products"}, {http.MethodPost, "/api/v1/products"}} {
		if status, _, _ := get(c[0], proxy+c[1]); status != http.StatusNotFound {
			t.Errorf("%s %s: %d, want 404", c[0], c[1], status)
		}
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("upstream hit %d times, want 1", n)
	}
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	if status, _, _ := get(http.MethodGet, serve(gone.URL+"/products")+"/api/v1/products"); status != http.StatusBadGateway {
		t.Errorf("upstream down: %d, want 502", status)
	}
}

// TestMinimalProxyProcess starts the proxy as the bench does, in a
// process of its own, and stops it: it forwards, and it exits on SIGTERM.
func TestMinimalProxyProcess(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/products" {
			http.NotFound(w, r)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(up.Close)
	p, err := startMinimalProxy(t.Context(), up.URL, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	if p.cmd.Process.Pid == os.Getpid() {
		t.Fatal("the proxy runs in the bench's own process")
	}
	res, err := http.Get(p.url + minimalProxyPath) //nolint:noctx // a test
	if err != nil {
		_ = p.end()
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if res.StatusCode != http.StatusOK || string(b) != "ok" {
		t.Errorf("through the proxy process: %d %q", res.StatusCode, b)
	}
	if err := p.end(); err != nil {
		t.Fatal(err)
	}
	if !p.cmd.ProcessState.Success() {
		t.Errorf("the proxy did not exit cleanly on SIGTERM: %v", p.cmd.ProcessState)
	}
	if res, err := http.Get(p.url + minimalProxyPath); err == nil { //nolint:noctx // a test
		_ = res.Body.Close()
		t.Error("the proxy still answers after end")
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{"-duration": "-duration", "2s": "2s", "a b": "'a b'", "it's": `'it'\''s'`, "": "''"} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
