package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// metricProcesses are the processes docs/observability.md's "Processes"
// column names, and what its shorthands stand for.
var (
	metricProcesses = []string{"gateway", "order", "inventory", "payment", "notify", "provider-sim"}
	docShorthands   = map[string][]string{
		"all":      metricProcesses,
		"services": {"order", "inventory", "payment", "notify"},
	}
)

// docFamily is one row of the metrics table in docs/observability.md.
type docFamily struct {
	typ       string
	processes []string
}

// TestEveryProcessServesItsMetrics starts the platform, places an order
// through the gateway (and replays it), and scrapes GET /metrics of every
// process: each exposes exactly the ordo_ families docs/observability.md
// lists for it, of the listed type, and the traffic shows in them.
func TestEveryProcessServesItsMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole platform")
	}
	doc := readMetricsDoc(t)
	p := startLoadPlatform(t, t.TempDir(), true)
	ctx := t.Context()
	_, customers, skus := prepareShop(t, p.GatewayURL)
	alice := customers[0]
	lines := []loadLine{{SKU: skus[0], Quantity: 1}}
	placed, err := alice.place(ctx, "metrics-1", lines, 30*time.Second)
	if err != nil {
		t.Fatalf("place: %v", err)
	}
	if again, err := alice.place(ctx, "metrics-1", lines, 30*time.Second); err != nil || again.ID != placed.ID {
		t.Fatalf("replay: %+v, %v; want order %s again", again, err, placed.ID)
	}
	final := waitFinal(t, []*loadClient{alice}, map[string]int{placed.ID: 0}, time.Minute)[placed.ID]
	t.Logf("order %s is %s %s", placed.ID, final.Status, final.Reason)

	scraped := map[string]exposition{}
	for _, proc := range metricProcesses {
		url, ok := p.URLs[proc]
		if !ok {
			t.Fatalf("the platform started no %s (skipped: %v)", proc, p.Skipped)
		}
		scraped[proc] = scrape(ctx, t, url+"/metrics")
	}
	for _, proc := range metricProcesses {
		got := scraped[proc]
		for name, f := range doc {
			typ, exposed := got.types[name]
			switch listed := slices.Contains(f.processes, proc); {
			case listed && !exposed:
				t.Errorf("%s does not expose %s, which docs/observability.md lists for it", proc, name)
			case !listed && exposed:
				t.Errorf("%s exposes %s, which docs/observability.md does not list for it", proc, name)
			case exposed && typ != f.typ:
				t.Errorf("%s: %s is a %s; docs/observability.md says %s", proc, name, typ, f.typ)
			}
		}
		for name := range got.types {
			if _, ok := doc[name]; !ok && strings.HasPrefix(name, "ordo_") {
				t.Errorf("%s exposes %s, which docs/observability.md does not list", proc, name)
			}
		}
		if got.sum("ordo_http_requests_total", `route="/readyz"`) < 1 {
			t.Errorf("%s counted no GET /readyz (the launcher polled it)", proc)
		}
		if got.sum("ordo_http_requests_total", `route="/metrics"`) != 0 {
			t.Errorf("%s counts its own /metrics", proc)
		}
	}

	gw := scraped["gateway"]
	wantAtLeast(t, "gateway", gw, "ordo_http_requests_total", 2, `method="POST"`, `route="/api/v1/orders"`, `code="202"`)
	wantAtLeast(t, "gateway", gw, "ordo_gateway_idempotency_replays_total", 1)
	for _, up := range []string{"order", "inventory", "payment", "notify", "provider-sim"} {
		if n := gw.count("ordo_gateway_breaker_state", `upstream="`+up+`"`); n != 1 {
			t.Errorf("gateway: %d breaker states for %s, want 1", n, up)
		}
	}
	if strings.Contains(gw.text, placed.ID) {
		t.Error("gateway: a raw order path is a label value")
	}
	wantAtLeast(t, "order", scraped["order"], "ordo_saga_outcomes_total", 1, `outcome="`+final.Status+`"`)
	wantAtLeast(t, "order", scraped["order"], "ordo_saga_duration_seconds_count", 1)
	wantAtLeast(t, "provider-sim", scraped["provider-sim"], "ordo_http_requests_total", 1, `method="POST"`)
	for proc, projections := range map[string][]string{
		"order": {"orders", "prices"}, "inventory": {"catalog"}, "payment": {"payments"}, "notify": {"feed"},
	} {
		wantAtLeast(t, proc, scraped[proc], "ordo_eventstore_events_appended_total", 1)
		for _, name := range projections {
			if n := scraped[proc].count("ordo_projection_lag_events", `projection="`+name+`"`); n != 1 {
				t.Errorf("%s: %d lag series for projection %s, want 1", proc, n, name)
			}
		}
	}
}

func wantAtLeast(t *testing.T, proc string, e exposition, name string, least float64, labels ...string) {
	t.Helper()
	if got := e.sum(name, labels...); got < least {
		t.Errorf("%s: %s%v = %g, want at least %g", proc, name, labels, got, least)
	}
}

// exposition is one scrape in the Prometheus text format.
type exposition struct {
	text  string
	types map[string]string // family name → type, from the # TYPE lines
}

func scrape(ctx context.Context, t *testing.T, url string) exposition {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer func() { _ = res.Body.Close() }()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET %s = %d %s:\n%s", url, res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	e := exposition{text: string(body), types: map[string]string{}}
	for line := range strings.Lines(e.text) {
		if f := strings.Fields(line); len(f) == 4 && f[0] == "#" && f[1] == "TYPE" {
			e.types[f[2]] = f[3]
		}
	}
	return e
}

// samples returns the values of the series of name (a family name, or one
// with a histogram's _count/_sum/_bucket suffix) whose labels contain every
// one of labels (each `key="value"`).
func (e exposition) samples(name string, labels ...string) []float64 {
	var out []float64
	for line := range strings.Lines(e.text) {
		line = strings.TrimSpace(line)
		rest, ok := strings.CutPrefix(line, name)
		if !ok || rest == "" || (rest[0] != '{' && rest[0] != ' ') {
			continue
		}
		i := strings.LastIndexByte(rest, ' ')
		series, value := rest[:i], rest[i+1:]
		if !all(labels, func(l string) bool { return strings.Contains(series, l) }) {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			continue
		}
		out = append(out, v)
	}
	return out
}

func (e exposition) sum(name string, labels ...string) float64 {
	s := 0.0
	for _, v := range e.samples(name, labels...) {
		s += v
	}
	return s
}

func (e exposition) count(name string, labels ...string) int { return len(e.samples(name, labels...)) }

func all[T any](s []T, f func(T) bool) bool {
	for _, v := range s {
		if !f(v) {
			return false
		}
	}
	return true
}

// readMetricsDoc parses the metrics table under "## Metrics" in
// docs/observability.md: name, type and the processes that expose it.
func readMetricsDoc(t *testing.T) map[string]docFamily {
	t.Helper()
	f, err := os.Open("../docs/observability.md")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	doc := map[string]docFamily{}
	inMetrics := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			inMetrics = line == "## Metrics"
		}
		if !inMetrics || !strings.HasPrefix(line, "| `ordo_") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 5 {
			t.Fatalf("docs/observability.md: row %q has %d cells, want 5", line, len(cells))
		}
		name := strings.Trim(strings.TrimSpace(cells[0]), "`")
		procs, err := docProcesses(cells[3])
		if err != nil {
			t.Fatalf("docs/observability.md: %s: %v", name, err)
		}
		if _, dup := doc[name]; dup {
			t.Fatalf("docs/observability.md lists %s twice", name)
		}
		doc[name] = docFamily{typ: strings.TrimSpace(cells[1]), processes: procs}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(doc) == 0 {
		t.Fatal("docs/observability.md has no metrics table under ## Metrics")
	}
	return doc
}

func docProcesses(cell string) ([]string, error) {
	var out []string
	for p := range strings.SplitSeq(cell, ",") {
		p = strings.TrimSpace(p)
		switch {
		case docShorthands[p] != nil:
			out = append(out, docShorthands[p]...)
		case slices.Contains(metricProcesses, p):
			out = append(out, p)
		default:
			return nil, fmt.Errorf("unknown process %q", p)
		}
	}
	return out, nil
}
