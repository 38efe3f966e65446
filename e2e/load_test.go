package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ordo-platform/ordo/e2e/load"
)

// TestLoadGeneratorMixed runs the load generator's mixed workload against
// the whole platform for ten seconds at a modest rate: the reports must be
// written, the window's orders must reach their outcome and be confirmed,
// and afterwards the auditor must find every invariant intact.
func TestLoadGeneratorMixed(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole platform")
	}
	shoppers := load.Shoppers(4)
	users, err := load.GatewayUsers(shoppers, "admin", "demo")
	if err != nil {
		t.Fatal(err)
	}
	setLoadEnv(t, "ORDO_GATEWAY_USERS", users)
	p := startLoadPlatform(t, t.TempDir(), true)
	ctx := t.Context()

	res, err := load.Run(ctx, load.Config{GatewayURL: p.GatewayURL, Workload: load.Mixed, Rate: 10,
		Warmup: 2 * time.Second, Duration: 10 * time.Second, Drain: time.Minute, Customers: 4, Logins: shoppers,
		Seed: 1, Restock: 1000, Progress: t.Output()})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	dir := t.TempDir()
	md, page := writeReports(t, dir, res)
	t.Logf("report:\n%s", md)

	o := res.Orders
	if o.Placed == 0 || o.Outcomes["confirmed"] == 0 || o.Outcomes["unresolved"] != 0 || res.Orders.Confirm.TotalCount() == 0 {
		t.Errorf("orders: placed %d, outcomes %v: want some placed, confirmed, none unresolved", o.Placed, o.Outcomes)
	}
	if sched := res.Scheduled(); sched.OK == 0 || res.Schedule.Started != res.Schedule.Planned {
		t.Errorf("requests ok %d of %d; arrivals started %d of %d", sched.OK, sched.Count, res.Schedule.Started, res.Schedule.Planned)
	}
	for _, want := range []string{"### mixed at 10 arrivals/s", "| place order |", "confirmed by the store during the window"} {
		if !strings.Contains(md, want) {
			t.Errorf("the Markdown report lacks %q", want)
		}
	}
	if !strings.Contains(page, "<svg ") || strings.Contains(page, "<script") {
		t.Errorf("the HTML report has no plot, or a script")
	}

	p.auditQuiet(t, "after the load")
}

// writeReports writes both reports into dir and reads them back.
func writeReports(t *testing.T, dir string, res *load.Result) (md, page string) {
	t.Helper()
	rep := load.Report{Command: "TestLoadGeneratorMixed", When: time.Now(), Machine: load.ThisMachine(),
		Platform: "started by the e2e harness", HTMLLink: "index.html", Phases: []*load.Result{res}}
	for name, write := range map[string]func(*os.File) error{
		"report.md":  func(f *os.File) error { return load.WriteMarkdown(f, rep) },
		"index.html": func(f *os.File) error { return load.WriteHTML(f, rep) },
	} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := write(f); err != nil {
			t.Fatalf("write %s: %v", name, err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || len(b) == 0 {
			t.Fatalf("%s: %v (%d bytes)", name, err, len(b))
		}
		return string(b)
	}
	return read("report.md"), read("index.html")
}
