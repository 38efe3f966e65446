package upstream

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// A disabled breaker has no state to show; an enabled one starts closed.
func TestBreakerStateSkipsDisabledBreakers(t *testing.T) {
	for name, off := range map[string]bool{"metrics-on": false, "metrics-off": true} {
		if _, err := New(Options{Name: name, BaseURL: "http://127.0.0.1:1", Breaker: BreakerOptions{Disabled: off}}); err != nil {
			t.Fatal(err)
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(states)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			got[m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
		}
	}
	if v, ok := got["metrics-on"]; !ok || v != 0 {
		t.Errorf("enabled breaker: state %g (reported %v), want 0", v, ok)
	}
	if _, ok := got["metrics-off"]; ok {
		t.Error("disabled breaker reported a state")
	}
}
