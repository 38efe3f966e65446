package notify

import (
	"testing"

	"github.com/ordo-platform/ordo/pkg/es/estest"
)

// TestEventsRegistered checks that every event type is registered exactly
// once under its documented name and survives Encode then Decode.
func TestEventsRegistered(t *testing.T) {
	samples := map[string]any{
		TypeRequested: requested,
		TypeSent:      sent,
		TypeFailed:    failed1,
	}
	estest.CheckRegistry(t, Register, samples)
}
