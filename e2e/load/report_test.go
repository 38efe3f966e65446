package load

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// TestReports runs a short mixed phase against the test gateway and checks
// the structure of both reports.
func TestReports(t *testing.T) {
	g := newTestGateway(t, time.Millisecond, 100*time.Millisecond)
	cfg := quickConfig(g, Mixed)
	cfg.Rate, cfg.Warmup, cfg.StatusInterval = 40, 300*time.Millisecond, 200*time.Millisecond
	res, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	rep := Report{Command: "ordo-load -workload mixed", When: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC),
		Machine:  Machine{CPUModel: "Test CPU", Cores: 2, MemoryGiB: 24, GoVersion: "go1.26", OS: "linux/amd64"},
		Platform: "a test gateway", HTMLLink: "load/index.html", Phases: []*Result{res}}
	var md strings.Builder
	if err := WriteMarkdown(&md, rep); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Load\n", "### mixed at 40 arrivals/s", "| place order |", "| **all reads** |",
		"place → confirmed p50 / p95 / p99 / max", "Test CPU, 2 cores, 24.0 GiB memory", "[load/index.html](load/index.html)",
		"Projection lag: max 3 events", "Schedule: 40 arrivals due in the window"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md.String())
		}
	}
	var page strings.Builder
	if err := WriteHTML(&page, rep); err != nil {
		t.Fatal(err)
	}
	checkHTML(t, page.String())
	if strings.Contains(page.String(), "load/index.html") {
		t.Error("the page links to itself by the Markdown's relative path")
	}
}

// checkHTML wants a page that fetches nothing and whose plots are
// well-formed SVG.
func checkHTML(t *testing.T, page string) {
	t.Helper()
	for _, bad := range []string{"<script", "<link", " src=", `href="http`, "@import"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page contains %q", bad)
		}
	}
	svgs := regexp.MustCompile(`(?s)<svg .*?</svg>`).FindAllString(page, -1)
	if len(svgs) < 5 {
		t.Fatalf("%d plots, want latency, throughput, confirmations, backlog, percentiles and histogram", len(svgs))
	}
	for _, s := range svgs {
		d := xml.NewDecoder(strings.NewReader(s))
		for {
			_, err := d.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("plot is not well-formed: %v\n%.300s", err, s)
			}
		}
		if !strings.Contains(s, "<path ") {
			t.Errorf("a plot draws no line: %.200s", s)
		}
	}
	for _, want := range []string{"Latency over time", "Latency by percentile", "Latency histogram", "<table>", "<h3>mixed at 40 arrivals/s</h3>"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}

func TestReplaceSection(t *testing.T) {
	const doc = "# B\n\nintro\n\n## Gateway\n\ng\n\n## Load\n\nold\n\n### phase\n\nold phase\n\n## Saga\n\n```\n## not a heading\n```\n"
	for _, tc := range []struct{ name, doc, want string }{
		{"middle", doc, "# B\n\nintro\n\n## Gateway\n\ng\n\n## Load\n\nnew\n\n## Saga\n\n```\n## not a heading\n```\n"},
		{"absent", "# B\n\nintro\n", "# B\n\nintro\n\n## Load\n\nnew\n"},
		{"last", "# B\n\n## Load\n\nold\n```\n## x\n```\nmore old\n", "# B\n\n## Load\n\nnew\n"},
	} {
		if got := ReplaceSection(tc.doc, "## Load", "## Load\n\nnew\n"); got != tc.want {
			t.Errorf("%s:\ngot  %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

func TestParseStatus(t *testing.T) {
	for _, tc := range []struct {
		body         string
		lag, running int64
		lagOK, runOK bool
	}{
		{`{"projections":{"status":"unknown","detail":"not exposed"},"sagas":{"status":"unknown"}}`, 0, 0, false, false},
		{`{"projections":{"order":{"orders":{"events":4,"checkpoint":"9.9"}},"inventory":{"stock":{"events":11}}},"sagas":{"running":5}}`, 11, 5, true, true},
		{`{"projections":[{"service":"order","lag":2},{"service":"notify","lag_events":7}]}`, 7, 0, true, false},
		{`not json`, 0, 0, false, false},
	} {
		lag, lagOK, running, runOK := parseStatus([]byte(tc.body))
		if lag != tc.lag || lagOK != tc.lagOK || running != tc.running || runOK != tc.runOK {
			t.Errorf("%s: lag %d %v, running %d %v", tc.body, lag, lagOK, running, runOK)
		}
	}
}

func TestErrorKind(t *testing.T) {
	if got := errorKind(answer{status: 503, body: []byte(`{"type":"https://ordo.dev/problems/not-caught-up","status":503}`)}); got != "HTTP 503 not-caught-up" {
		t.Errorf("problem: %q", got)
	}
	// A problem with something else written after it is still that problem.
	if got := errorKind(answer{status: 503, body: []byte(`{"type":"https://ordo.dev/problems/not-caught-up"}{"id":""}`)}); got != "HTTP 503 not-caught-up" {
		t.Errorf("problem and more: %q", got)
	}
	if got := errorKind(answer{status: 429, body: []byte(`slow down`)}); got != "HTTP 429" {
		t.Errorf("plain: %q", got)
	}
	if got := errorKind(answer{err: context.DeadlineExceeded}); got != "timeout" {
		t.Errorf("deadline: %q", got)
	}
	// A port nobody listens on: a real refused connection.
	ln, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	c := &client{base: "http://" + addr, hc: newHTTPClient(Config{Timeout: 5 * time.Second, MaxInFlight: 1})}
	if got := errorKind(c.do(t.Context(), "GET", "/", nil, nil)); got != "connection refused" {
		t.Errorf("closed port: %q", got)
	}
}

func TestGatewayUsers(t *testing.T) {
	spec, err := GatewayUsers(Shoppers(3), "admin", "demo")
	if err != nil {
		t.Fatal(err)
	}
	entries := strings.Split(spec, ",")
	if len(entries) != 4 || !strings.HasPrefix(entries[0], "shopper-001:customer:") || !strings.HasPrefix(entries[3], "admin:admin:") {
		t.Fatalf("users %q", spec)
	}
	hash := strings.SplitN(entries[2], ":", 3)[2]
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte("demo")) != nil {
		t.Fatalf("the hash %q is not of the password", hash)
	}
}
