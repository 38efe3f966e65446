package notify

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/ordo-platform/ordo/pkg/es"
)

// scenario is one business rule: given these past events, when this
// command runs, then it records these events or fails with this kind.
type scenario[S any] struct {
	name    string
	given   []any
	when    func(S) ([]any, error)
	then    []any
	wantErr error
}

func runScenarios[S any](t *testing.T, agg es.Aggregate[S], id string, scenarios []scenario[S]) {
	t.Helper()
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			s := agg.Initial(id)
			for _, e := range sc.given {
				s = agg.Apply(s, e)
			}
			got, err := sc.when(s)
			if sc.wantErr != nil {
				var de *Error
				if !errors.Is(err, sc.wantErr) || !errors.As(err, &de) {
					t.Fatalf("error = %v, want a domain *Error of kind %v", err, sc.wantErr)
				}
			} else if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if diff := cmp.Diff(sc.then, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}
