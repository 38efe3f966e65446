package payment

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ordo-platform/ordo/pkg/es"
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
	r := es.NewRegistry()
	Register(r)
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
