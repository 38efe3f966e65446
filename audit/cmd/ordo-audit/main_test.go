package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ordo-platform/ordo/audit"
	"github.com/ordo-platform/ordo/audit/internal/shoptest"
	"github.com/ordo-platform/ordo/services/order"
)

func noEnv(string) string { return "" }

func runAudit(t *testing.T, shop *shoptest.Shop, extra ...string) (string, error) {
	t.Helper()
	shop.Settle()
	args := append([]string{"--database-url", shop.DatabaseURL, "--provider-url", shop.LedgerURL,
		"--mailpit-url", shop.MailpitURL, "--quiet", "100ms", "--quiet-timeout", "10s"}, extra...)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	err := run(ctx, args, noEnv, &out)
	return out.String(), err
}

func TestCleanStoreExitsZero(t *testing.T) {
	shop := shoptest.New(t, shoptest.WithMailpit())
	shop.Consistent()
	out, err := runAudit(t, shop, "--json")
	if code := exitCode(err); code != 0 {
		t.Fatalf("exit %d (%v); output:\n%s", code, err, out)
	}
	var rep struct {
		OK bool `json:"ok"`
		audit.Report
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if !rep.OK || len(rep.Violations) != 0 || len(rep.Warnings) != 0 || rep.Counts.Orders != 4 || rep.Counts.Emails != 5 {
		t.Errorf("report: %+v", rep)
	}
}

func TestViolationsExitOne(t *testing.T) {
	shop := shoptest.New(t) // no Mailpit: the email check is skipped with a warning
	shop.Consistent()
	shop.Place("o5", "erin", order.Item{SKU: "SKU-A", Quantity: 1})
	out, err := runAudit(t, shop, "--mailpit-url", "")
	if code := exitCode(err); code != 1 {
		t.Fatalf("exit %d (%v), want 1; output:\n%s", code, err, out)
	}
	for _, line := range []string{
		"ordo audit: FAIL: 1 violation(s)",
		"VIOLATION orders o5: still pending",
		"warning   email mailbox: no mailbox: emails not audited",
	} {
		if !strings.Contains(out, line) {
			t.Errorf("output lacks %q:\n%s", line, out)
		}
	}
}

func TestExitCodes(t *testing.T) {
	got := []int{exitCode(nil), exitCode(flag.ErrHelp), exitCode(errViolations), exitCode(errors.New("store down"))}
	if diff := cmp.Diff([]int{0, 0, 1, 2}, got); diff != "" {
		t.Error(diff)
	}
}

func TestHelp(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"--help"}, noEnv, &out)
	if !errors.Is(err, flag.ErrHelp) || !strings.Contains(out.String(), "ORDO_AUDIT_PROVIDER_URL") {
		t.Errorf("--help: %v\n%s", err, out.String())
	}
}
