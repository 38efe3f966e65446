package kurrent

import (
	"testing"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/eventstore/storetest"
)

// TestWireSuiteOnFake runs the shared contract suite against fakeNode. It
// exercises this package's code paths the way the suite uses them (paging,
// resubscription, the replay check) in plain go test. It is NOT contract
// verification: the fake is our model of the server; TestContract against a
// real KurrentDB is the verification.
func TestWireSuiteOnFake(t *testing.T) {
	n := startFake(t)
	storetest.Run(t, storetest.Harness{
		New:       func(t *testing.T) es.Store { return openFake(t, n, Options{}) },
		GapRounds: 2,
	})
}
