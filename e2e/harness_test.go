package e2e

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ordo-platform/ordo/audit"
	"github.com/ordo-platform/ordo/launcher"
	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/platform"
	"github.com/ordo-platform/ordo/pkg/testenv"
)

// loadEnv is what the crash test and the benchmark change in the children's
// environment. The launcher passes its own environment under its table, so
// variables the table does not set reach the binaries as they are.
var loadEnv = map[string]string{
	// Hundreds of orders from two customers on one address would hit the
	// shop's limits (20/s per user, 50/s per address); the load is the
	// point here, not the limiter.
	"ORDO_GATEWAY_USER_RATE":  "100000",
	"ORDO_GATEWAY_USER_BURST": "100000",
	"ORDO_GATEWAY_ADDR_RATE":  "100000",
	"ORDO_GATEWAY_ADDR_BURST": "100000",
}

// loadPlatform is a platform started for load: its launcher handle, its
// output (shown when the test fails) and its event store, opened here.
type loadPlatform struct {
	*launcher.Platform
	out   *logBuffer
	store es.Store
}

// startLoadPlatform starts the whole platform on free ports with a fresh
// database, Redis prefix and Mailpit. binDir is shared between runs; build
// says whether this run builds into it (the first) or reuses it. Each
// option may change the launcher's config before the start.
func startLoadPlatform(tb testing.TB, binDir string, build bool, options ...func(*launcher.Config)) *loadPlatform {
	tb.Helper()
	root, err := launcher.FindRoot()
	if err != nil {
		tb.Fatal(err)
	}
	ports, err := launcher.FreePorts()
	if err != nil {
		tb.Fatal(err)
	}
	_, prefix := testenv.Redis(tb)
	smtp, mailAPI := testenv.Mailpit(tb)
	out := &logBuffer{}
	ctx := context.WithoutCancel(tb.Context())
	cfg := launcher.Config{
		Root: root, BinDir: binDir, NoBuild: !build, Ports: ports, DatabaseURL: testenv.Database(tb),
		// The Redis testenv.Redis reached and cleans up (its default when unset).
		RedisURL: os.Getenv("ORDO_REDIS_URL"), RedisPrefix: prefix, MailpitSMTP: smtp, MailpitAPI: mailAPI, Output: out,
		ReadyTimeout: 3 * time.Minute, StopTimeout: 10 * time.Second,
	}
	for _, o := range options {
		o(&cfg)
	}
	p, err := launcher.Start(ctx, cfg)
	if err != nil {
		tb.Fatalf("start the platform: %v\noutput:\n%s", err, out.Tail(20000))
	}
	lp := &loadPlatform{Platform: p, out: out}
	tb.Cleanup(func() {
		if err := p.Stop(context.WithoutCancel(tb.Context())); err != nil {
			tb.Errorf("stop: %v", err)
		}
		if tb.Failed() {
			tb.Logf("platform output (tail):\n%s", out.Tail(60000))
		}
	})
	store, closeStore, err := platform.OpenStore(ctx, p.DatabaseURL, slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatalf("open the event store: %v", err)
	}
	tb.Cleanup(closeStore)
	lp.store = store
	return lp
}

// setLoadEnv sets loadEnv (and extra pairs) for the rest of the test.
func setLoadEnv(tb testing.TB, extra ...string) {
	tb.Helper()
	for k, v := range loadEnv {
		tb.Setenv(k, v)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		tb.Setenv(extra[i], extra[i+1])
	}
}

// logBuffer collects the platform's output from many goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// Tail is the last n bytes written.
func (l *logBuffer) Tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.b.String()
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return s
}

// auditQuiet waits until the platform has been quiet for 3 s (at most a
// minute) and runs the invariant auditor over the store, the provider's
// ledger and Mailpit; a violation, or a platform that never went quiet,
// fails the test with the auditor's report. what names the run in the
// failure ("seed 42").
func (p *loadPlatform) auditQuiet(t *testing.T, what string) audit.Report {
	t.Helper()
	return p.auditWithin(t, what, 0)
}

// auditWithin is auditQuiet that, while the auditor finds violations,
// waits for quiet and audits again until within has passed: for runs whose
// faults leave work to the platform's background reconciliation (a payment
// called off while a crash lost the answer to its charge is asked about
// again by the payment reconciler, every --reconcile-every). Each retry is
// logged with what the auditor found, and the last report decides.
//
// A report whose only violations are "not quiet" or "not settled" (a
// writer was busy while the auditor read: a retry the platform scheduled
// seconds later) says nothing about the invariants yet, so such a report is
// audited again for at least unsettledFor, whatever within is.
func (p *loadPlatform) auditWithin(t *testing.T, what string, within time.Duration) audit.Report {
	t.Helper()
	ctx := t.Context()
	deadline := time.Now().Add(within)
	unsettledDeadline := time.Now().Add(max(within, unsettledFor))
	var rep audit.Report
	for {
		notQuiet, err := audit.Quiet(ctx, p.store, 3*time.Second, time.Minute, 0)
		if err != nil {
			t.Fatalf("quiet: %v", err)
		}
		rep, err = audit.Run(ctx, audit.Sources{Store: p.store, Ledger: audit.HTTPLedger{BaseURL: p.URLs["provider-sim"]},
			Mailbox: audit.Mailpit{BaseURL: p.MailpitAPI}})
		if err != nil {
			t.Fatalf("audit: %v", err)
		}
		if notQuiet != nil {
			rep.Violations = append([]audit.Violation{*notQuiet}, rep.Violations...)
		}
		until := deadline
		if onlyUnsettled(rep) {
			until = unsettledDeadline
		}
		if rep.OK() || time.Now().After(until) {
			break
		}
		t.Logf("%s: %d violation(s) after quiet, first: %s %s: %s; auditing again (until %v from now)",
			what, len(rep.Violations), rep.Violations[0].Check, rep.Violations[0].Subject, rep.Violations[0].Detail,
			time.Until(until).Round(time.Second))
		time.Sleep(2 * time.Second)
	}
	if !rep.OK() {
		var text strings.Builder
		_ = rep.WriteText(&text)
		t.Fatalf("%s: the auditor found violations:\n%s", what, text.String())
	}
	t.Logf("%s: audit OK (counts %+v)", what, rep.Counts)
	return rep
}

// unsettledFor is how long auditWithin keeps auditing a platform that is
// still writing.
const unsettledFor = 45 * time.Second

// onlyUnsettled: every violation is the store not being quiet or settled.
func onlyUnsettled(rep audit.Report) bool {
	for _, v := range rep.Violations {
		if v.Check != audit.CheckQuiet {
			return false
		}
	}
	return len(rep.Violations) > 0
}
