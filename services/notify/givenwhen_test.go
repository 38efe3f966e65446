package notify

import (
	"errors"
	"testing"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/es/estest"
)

// scenario is one business rule: given these past events, when this
// command runs, then it records these events or fails with this kind.
type scenario[S any] = estest.Scenario[S]

// runScenarios runs the scenarios and insists that failures are this
// package's own *Error.
func runScenarios[S any](t *testing.T, agg es.Aggregate[S], id string, scenarios []scenario[S]) {
	t.Helper()
	estest.Run(t, agg, id, scenarios, func(err error) bool {
		var de *Error
		return errors.As(err, &de)
	})
}
