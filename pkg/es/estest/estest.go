// Package estest holds the test helpers every domain package shares: the
// given-events / when-command / then-events runner, and the check that a
// package registers each of its event types once and round-trips them.
package estest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ordo-platform/ordo/pkg/es"
)

// Scenario is one business rule: given these past events, when this command
// runs, then it records these events or fails with this error.
type Scenario[S any] struct {
	Name    string
	Given   []any
	When    func(S) ([]any, error)
	Then    []any
	WantErr error
}

// Run folds each scenario's given events with agg, runs its command and
// compares what it records. isDomainErr, when not nil, must accept every
// error a scenario expects: it checks that commands fail with the package's
// own error type, not just any error matching WantErr.
func Run[S any](t *testing.T, agg es.Aggregate[S], id string, scenarios []Scenario[S], isDomainErr func(error) bool) {
	t.Helper()
	for _, sc := range scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			s := agg.Initial(id)
			for _, e := range sc.Given {
				s = agg.Apply(s, e)
			}
			got, err := sc.When(s)
			switch {
			case sc.WantErr != nil && (!errors.Is(err, sc.WantErr) || (isDomainErr != nil && !isDomainErr(err))):
				t.Fatalf("error = %v, want a domain error matching %v", err, sc.WantErr)
			case sc.WantErr == nil && err != nil:
				t.Fatalf("unexpected error: %v", err)
			}
			if diff := cmp.Diff(sc.Then, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

// CheckRegistry checks that register registers exactly the types of
// samples (type name → a sample event) and that each sample survives
// Encode then Decode.
func CheckRegistry(t *testing.T, register func(*es.Registry), samples map[string]any) {
	t.Helper()
	r := es.NewRegistry()
	register(r)
	if got := len(r.Names()); got != len(samples) {
		t.Fatalf("registered %d types %v, want %d", got, r.Names(), len(samples))
	}
	for name, ev := range samples {
		data, err := r.Encode(es.NewUUID(), ev, es.Metadata{})
		if err != nil {
			t.Fatalf("encode %T: %v", ev, err)
		}
		if data.Type != name {
			t.Errorf("%T encodes as %q, want %q", ev, data.Type, name)
		}
		back, err := r.Decode(data.Type, data.Data)
		if err != nil {
			t.Fatalf("decode %s: %v", name, err)
		}
		if diff := cmp.Diff(ev, back); diff != "" {
			t.Errorf("%s round trip (-want +got):\n%s", name, diff)
		}
	}
}

// ReadAll reads every event after from that f selects, once everything
// committed before the call is readable: a store whose reads may briefly
// trail its writes (the PostgreSQL store: see its Settle) is settled first,
// so a test that has just appended sees its own events.
func ReadAll(tb testing.TB, s es.Store, from es.Position, f es.Filter) []es.Event {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if st, ok := s.(interface{ Settle(context.Context) error }); ok {
		if err := st.Settle(ctx); err != nil {
			tb.Fatal(err)
		}
	}
	events, err := s.ReadAll(ctx, from, f, 0)
	if err != nil {
		tb.Fatal(err)
	}
	return events
}
