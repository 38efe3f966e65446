package saga_test

import (
	"context"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/metrics"
	"github.com/ordo-platform/ordo/services/order"
	"github.com/ordo-platform/ordo/services/order/internal/saga"
	flow "github.com/ordo-platform/ordo/services/order/saga"
)

// outcomeCounts reads the process's saga families: completions by
// "outcome/reason", and how many durations were observed.
func outcomeCounts(t *testing.T) (map[string]float64, uint64) {
	t.Helper()
	mfs, err := metrics.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]float64{}
	var durations uint64
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch mf.GetName() {
			case "ordo_saga_outcomes_total":
				counts[label(m, "outcome")+"/"+label(m, "reason")] = m.GetCounter().GetValue()
			case "ordo_saga_duration_seconds":
				durations += m.GetHistogram().GetSampleCount()
			}
		}
	}
	return counts, durations
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// Each completed saga is counted once by outcome and reason, and a replay
// of the saga's input from the start counts nothing again.
func TestMetricsCountEachOutcomeOnce(t *testing.T) {
	w := newWorld(t, slow, "capture")
	before, durationsBefore := outcomeCounts(t)
	for _, want := range []string{"confirmed/", "cancelled/out_of_stock", "cancelled/payment_declined",
		"cancelled/customer_cancelled", "cancelled/payment_timeout"} {
		if _, ok := before[want]; !ok {
			t.Errorf("no series %s before the first completion", want)
		}
	}
	ids := []string{w.place(a2), w.place(order.Item{SKU: "B", Quantity: 5})}
	w.settle(ids[0], order.StatusConfirmed, "")
	w.settle(ids[1], order.StatusCancelled, order.ReasonOutOfStock)
	counted := func() bool {
		now, durations := outcomeCounts(t)
		return now["confirmed/"]-before["confirmed/"] == 1 && now["cancelled/out_of_stock"]-before["cancelled/out_of_stock"] == 1 &&
			durations-durationsBefore == 2
	}
	w.eventually("both outcomes counted", counted)

	ctx := context.Background()
	reached, err := w.store.Checkpoints().Load(ctx, saga.DefaultName)
	if err != nil {
		t.Fatal(err)
	}
	w.stop()
	if err := w.store.Checkpoints().Save(ctx, saga.DefaultName, es.Start); err != nil {
		t.Fatal(err)
	}
	w.startRunner()
	w.eventually("replay to the head", func() bool {
		cp, err := w.store.Checkpoints().Load(ctx, saga.DefaultName)
		return err == nil && !cp.Less(reached)
	})
	w.sagaHas(ids[0], flow.TypeCompleted)
	time.Sleep(100 * time.Millisecond) // let a wrongly counted replay show
	if !counted() {
		now, durations := outcomeCounts(t)
		t.Errorf("after a replay: outcomes %v (before %v), %d durations (before %d); want each saga counted once",
			now, before, durations, durationsBefore)
	}
}
