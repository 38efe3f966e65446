package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// The family is exported at zero before anything parks, then counts.
func TestParkedIsExportedFromTheStart(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewParked(reg)
	want := "# HELP ordo_parked_events_total Events this process's subscribers could not process and parked for an operator to replay.\n# TYPE ordo_parked_events_total counter\nordo_parked_events_total %d\n"
	if err := testutil.GatherAndCompare(reg, strings.NewReader(strings.Replace(want, "%d", "0", 1))); err != nil {
		t.Error(err)
	}
	m.Observe()
	m.Observe()
	if err := testutil.GatherAndCompare(reg, strings.NewReader(strings.Replace(want, "%d", "2", 1))); err != nil {
		t.Error(err)
	}
}
