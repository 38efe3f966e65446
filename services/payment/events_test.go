package payment

import (
	"testing"

	"github.com/ordo-platform/ordo/pkg/es/estest"
)

// TestEventsRegistered checks that every event type is registered exactly
// once under its documented name and survives Encode then Decode.
func TestEventsRegistered(t *testing.T) {
	samples := map[string]any{
		TypeRequested:      requested,
		TypeCaptured:       captured,
		TypeDeclined:       declined,
		TypeOutcomeUnknown: unknown,
		TypeRefunded:       refunded,
		TypeCancelled:      cancelled,
	}
	estest.CheckRegistry(t, Register, samples)
}
