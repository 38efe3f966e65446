package metrics_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/eventstore/postgres"
	"github.com/ordo-platform/ordo/pkg/metrics"
	"github.com/ordo-platform/ordo/pkg/projection"
	"github.com/ordo-platform/ordo/pkg/testenv"
)

// lagger is a projection whose lag is given.
type lagger struct {
	name string
	rep  projection.LagReport
	err  error
}

func (l lagger) Name() string { return l.name }
func (l lagger) Lag(context.Context) (projection.LagReport, error) {
	return l.rep, l.err
}

func TestProjectionsReportEachWatchedLag(t *testing.T) {
	reg := prometheus.NewRegistry()
	p := metrics.NewProjections(reg)
	hourAgo := time.Now().Add(-time.Hour)
	p.Watch(lagger{name: "orders", rep: projection.LagReport{Events: 7, Oldest: hourAgo}})
	p.Watch(lagger{name: "prices"})
	p.Watch(lagger{name: "broken", err: errors.New("redis is down")})
	unwatch := p.Watch(lagger{name: "gone", rep: projection.LagReport{Events: 1, Oldest: hourAgo}})
	unwatch()

	if got, want := counts(family(t, reg, "ordo_projection_lag_events")), map[string]float64{"projection=orders": 7}; !equal(got, want) {
		t.Errorf("lag events = %v, want %v", got, want)
	}
	seconds := family(t, reg, "ordo_projection_lag_seconds").GetMetric()
	if len(seconds) != 2 {
		t.Fatalf("lag seconds has %d series, want orders and prices (not the broken or unwatched ones)", len(seconds))
	}
	for _, m := range seconds {
		v := m.GetGauge().GetValue()
		switch labels(m) {
		case "projection=orders":
			if v < time.Hour.Seconds() || v > 2*time.Hour.Seconds() {
				t.Errorf("orders lag %gs, want about an hour", v)
			}
		case "projection=prices":
			if v != 0 {
				t.Errorf("prices lag %gs, want 0 when caught up", v)
			}
		default:
			t.Errorf("unexpected series %s", labels(m))
		}
	}
}

// A later Watch of a name replaces the earlier projection, and the
// earlier one's unwatch leaves the later in place.
func TestProjectionsWatchReplacesByName(t *testing.T) {
	reg := prometheus.NewRegistry()
	p := metrics.NewProjections(reg)
	unwatchOld := p.Watch(lagger{name: "feed", rep: projection.LagReport{Events: 1, Oldest: time.Now()}})
	p.Watch(lagger{name: "feed", rep: projection.LagReport{Events: 2, Oldest: time.Now()}})
	unwatchOld()
	if got, want := counts(family(t, reg, "ordo_projection_lag_events")), map[string]float64{"projection=feed": 2}; !equal(got, want) {
		t.Errorf("lag events = %v, want %v", got, want)
	}
}

// A real Runner: its lag is the events it has not applied, and nothing
// once it has caught up.
func TestProjectionsOfARunner(t *testing.T) {
	ctx := t.Context()
	s, err := postgres.Open(ctx, testenv.Database(t), postgres.Options{PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	rdb, prefix := testenv.Redis(t)
	r, err := projection.New(s, rdb, projection.Projection{
		Name:   "things",
		Filter: es.Filter{Categories: []string{"thing"}},
		Apply: func(ctx context.Context, e es.Event, tx *projection.Tx) error {
			tx.Pipe().Incr(ctx, tx.Key("count"))
			return nil
		},
	}, projection.Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	var last es.AppendResult
	for i := range 3 {
		if last, err = s.Append(ctx, "thing-1", es.Any, event(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	metrics.NewProjections(reg).Watch(r)
	if got, want := counts(family(t, reg, "ordo_projection_lag_events")), map[string]float64{"projection=things": 3}; !equal(got, want) {
		t.Errorf("before running: lag events = %v, want %v", got, want)
	}

	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.Run(runCtx) }()
	waitCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err = r.WaitFor(waitCtx, last.Position)
	cancel()
	stop()
	if runErr := <-done; !errors.Is(runErr, context.Canceled) {
		t.Errorf("Run = %v, want it cancelled", runErr)
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ordo_projection_lag_events", "ordo_projection_lag_seconds"} {
		mf := family(t, reg, name)
		if len(mf.GetMetric()) != 1 || len(counts(mf)) != 0 {
			t.Errorf("caught up: %s = %v, want one series at 0", name, mf.GetMetric())
		}
	}
}

// Report gives every watched projection, in name order, with the reason
// when its lag could not be measured; the handler serves the process's
// set as JSON keyed by name.
func TestProjectionsReportAndHandler(t *testing.T) {
	p := metrics.NewProjections(prometheus.NewRegistry())
	hourAgo := time.Now().Add(-time.Hour)
	p.Watch(lagger{name: "orders", rep: projection.LagReport{Events: 7, Oldest: hourAgo,
		Checkpoint: es.Position{Commit: 9, Prepare: 1}, Head: es.Position{Commit: 12, Prepare: 4}}})
	p.Watch(lagger{name: "broken", err: errors.New("redis is down")})
	rep := p.Report(t.Context())
	if len(rep) != 2 || rep[0].Name != "broken" || rep[1].Name != "orders" {
		t.Fatalf("report %+v, want broken then orders", rep)
	}
	if rep[0].Error != "redis is down" || rep[0].Events != 0 {
		t.Errorf("broken: %+v", rep[0])
	}
	if o := rep[1]; o.Events != 7 || o.Seconds < time.Hour.Seconds() || o.Checkpoint != "9.1" || o.Head != "12.4" || o.Error != "" {
		t.Errorf("orders: %+v", o)
	}

	defer metrics.WatchProjection(lagger{name: "feed", rep: projection.LagReport{Events: 2, Oldest: hourAgo}})()
	rec := httptest.NewRecorder()
	metrics.ProjectionsHandler().ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/admin/projections", nil))
	var got map[string]map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("handler: %v %q: %s", err, rec.Header().Get("Content-Type"), rec.Body)
	}
	if f := got["feed"]; f == nil || f["events"] != 2.0 || f["seconds"].(float64) < time.Hour.Seconds() {
		t.Errorf("handler answered %s, want feed 2 events an hour old", rec.Body)
	}
}
