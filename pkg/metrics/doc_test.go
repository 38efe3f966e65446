package metrics_test

import (
	"bufio"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/ordo-platform/ordo/pkg/metrics"
	"github.com/ordo-platform/ordo/pkg/projection"
)

// docRow is one row of the metrics table in docs/observability.md.
type docRow struct {
	typ    string
	labels []string
}

// readDoc parses the metrics table of docs/observability.md.
func readDoc(t *testing.T) map[string]docRow {
	t.Helper()
	f, err := os.Open("../../docs/observability.md")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	rows := map[string]docRow{}
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
		var labels []string
		for l := range strings.SplitSeq(cells[2], ",") {
			if l = strings.Trim(strings.TrimSpace(l), "`"); l != "" {
				labels = append(labels, l)
			}
		}
		slices.Sort(labels)
		if _, dup := rows[name]; dup {
			t.Errorf("docs/observability.md lists %s twice", name)
		}
		rows[name] = docRow{typ: strings.TrimSpace(cells[1]), labels: labels}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatal("docs/observability.md has no metrics table under ## Metrics")
	}
	return rows
}

// The families this package defines are the ones the doc lists under its
// prefixes, with the doc's types and labels. (The services' own families
// are checked against the doc by e2e/metrics_test.go.)
func TestDocListsThisPackagesFamilies(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := server(reg)
	serve(t, e, "GET", "/orders/1")
	metrics.NewEventStore(reg).ObserveAppend(1, time.Millisecond, nil)
	metrics.NewProjections(reg).Watch(lagger{name: "orders", rep: projection.LagReport{}})
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	doc := readDoc(t)
	got := map[string]bool{}
	for _, mf := range mfs {
		got[mf.GetName()] = true
		row, ok := doc[mf.GetName()]
		if !ok {
			t.Errorf("%s is not in docs/observability.md", mf.GetName())
			continue
		}
		if typ := strings.ToLower(mf.GetType().String()); typ != row.typ {
			t.Errorf("%s is a %s; the doc says %s", mf.GetName(), typ, row.typ)
		}
		if l := labelNames(mf); !slices.Equal(l, row.labels) {
			t.Errorf("%s has labels %v; the doc says %v", mf.GetName(), l, row.labels)
		}
	}
	for name := range doc {
		ours := strings.HasPrefix(name, "ordo_http_") || strings.HasPrefix(name, "ordo_eventstore_") || strings.HasPrefix(name, "ordo_projection_")
		if ours && !got[name] {
			t.Errorf("docs/observability.md lists %s, which this package does not define", name)
		}
	}
}

func labelNames(mf *dto.MetricFamily) []string {
	var names []string
	if ms := mf.GetMetric(); len(ms) > 0 {
		for _, l := range ms[0].GetLabel() {
			names = append(names, l.GetName())
		}
	}
	slices.Sort(names)
	return names
}
