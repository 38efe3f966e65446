package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/eventstore/postgres"
	"github.com/ordo-platform/ordo/pkg/metrics"
	"github.com/ordo-platform/ordo/pkg/testenv"
)

func event(n int) es.EventData {
	return es.EventData{Type: "thing.happened", Data: []byte(fmt.Sprintf(`{"n":%d}`, n))}
}

// The PostgreSQL store reports each append to its observer; the families
// count appends, events and failures by kind.
func TestEventStoreFamiliesFromPostgres(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.NewEventStore(reg)
	s, err := postgres.Open(t.Context(), testenv.Database(t), postgres.Options{OnAppend: m.ObserveAppend})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	ctx := t.Context()
	if _, err := s.Append(ctx, "thing-1", es.NoStream, event(1), event(2), event(3)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, "thing-1", es.StreamExists, event(4)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, "thing-1", es.NoStream, event(5)); !errors.Is(err, es.ErrConcurrency) {
		t.Fatalf("append to an existing stream expecting none = %v, want a conflict", err)
	}
	if _, err := s.Append(ctx, "thing 1", es.Any, event(6)); !errors.Is(err, es.ErrInvalid) {
		t.Fatalf("append to a stream id with a space = %v, want invalid", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Append(cancelled, "thing-2", es.Any, event(7)); err == nil {
		t.Fatal("append with a cancelled context succeeded")
	}

	for name, want := range map[string]map[string]float64{
		"ordo_eventstore_appends_total":         {"": 5},
		"ordo_eventstore_events_appended_total": {"": 4},
		"ordo_eventstore_append_errors_total":   {"kind=conflict": 1, "kind=invalid": 1, "kind=other": 1},
	} {
		if got := counts(family(t, reg, name)); !equal(got, want) {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	h := family(t, reg, "ordo_eventstore_append_duration_seconds").GetMetric()[0].GetHistogram()
	if h.GetSampleCount() != 5 || h.GetSampleSum() <= 0 {
		t.Errorf("append durations: %d observations summing to %gs, want 5 and more than 0", h.GetSampleCount(), h.GetSampleSum())
	}
}

func TestAppendErrorKind(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("save: %w", &es.ConcurrencyError{Stream: "a-1"}), metrics.AppendConflict},
		{es.Invalidf("bad"), metrics.AppendInvalid},
		{context.DeadlineExceeded, metrics.AppendOther},
	} {
		if got := metrics.AppendErrorKind(c.err); got != c.want {
			t.Errorf("AppendErrorKind(%v) = %s, want %s", c.err, got, c.want)
		}
	}
}

// The series of every error kind exist before the first error.
func TestEventStoreFamiliesStartAtZero(t *testing.T) {
	reg := prometheus.NewRegistry()
	metrics.NewEventStore(reg).ObserveAppend(2, time.Millisecond, nil)
	if n := len(family(t, reg, "ordo_eventstore_append_errors_total").GetMetric()); n != 3 {
		t.Errorf("append errors has %d series, want one per kind (3)", n)
	}
}
