package participant

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/park"
)

// subscriber is the handler Run subscribes with: handle through
// Options.Park. Run's es.Concurrent saves the checkpoint past requests
// handled or parked.
// Requests need no order among themselves, and replaying one late is safe:
// a payment request the saga has called off since is cancelled rather
// than charged (calledOff), and capture, cancel and reconcile are no-ops
// when repeated (the order id is the provider's idempotency key).
func (p *Participant) subscriber() es.Handler {
	return p.opts.Park.Handler(park.Subscriber{
		Name:   Name,
		Handle: p.handle,
	})
}

// orderKey groups the requests by order: Run handles several orders'
// requests at once and one order's in order.
func orderKey(e es.Event) string {
	var r request
	if decode(e, &r) != nil {
		return ""
	}
	return r.OrderID
}

// errNoOrder is a request that names no order.
var errNoOrder = errors.New("names no order")

// decode reads a request; a body that does not decode, or names no order,
// is a permanent failure.
func decode(e es.Event, r *request) error {
	err := json.Unmarshal(e.Data, r)
	if err == nil && r.OrderID == "" {
		err = errNoOrder
	}
	if err != nil {
		return es.Permanent(fmt.Errorf("payment participant: unreadable %s %s@%d: %w", e.Type, e.StreamID, e.Version, err))
	}
	return nil
}
