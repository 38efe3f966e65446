package metrics

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestParkedCountsBySubscriber(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewParked(reg)
	m.Observe("inventory-participant")
	m.Observe("inventory-participant")
	m.Observe("catalog")
	if got := testutil.ToFloat64(m.parked.WithLabelValues("inventory-participant")); got != 2 {
		t.Errorf("inventory-participant = %v, want 2", got)
	}
	if got := testutil.ToFloat64(m.parked.WithLabelValues("catalog")); got != 1 {
		t.Errorf("catalog = %v, want 1", got)
	}
}
