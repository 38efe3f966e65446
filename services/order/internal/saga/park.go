package saga

import (
	"encoding/json"
	"fmt"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/park"
	"github.com/ordo-platform/ordo/services/order"
)

// subscriber is the handler Run subscribes with: handle through
// Options.Park. Run's es.Concurrent saves the checkpoint past events
// handled or parked.
//
// The saga's events must be taken in order per order: an observation
// applied after the ones that followed it could lead the saga to a
// decision it would not otherwise make. So the park groups events by order
// (Subscriber.Key): once an event of an order is parked, that order's later
// events are parked behind it and the saga does not see them; other orders
// flow on. The order's step deadlines still fire, so an order whose events
// are held ends as its deadline says (a reservation never seen cancels it
// as out_of_stock, with every step undone), exactly as if a participant had
// not answered. Replaying the order's first parked event (POST
// /admin/parked/{id}/replay) feeds the held events to the saga in order;
// the saga's decisions are idempotent and it already handles observations
// that arrive after its outcome (a capture after a cancel is refunded), so
// a late replay still leaves every invariant intact.
func (r *Runner) subscriber() es.Handler {
	return r.opts.Park.Handler(park.Subscriber{
		Name:   r.opts.Name,
		Handle: r.handle,
		Key:    orderKey,
	})
}

// orderKey is the order an event belongs to: the order id in its body, or,
// for a body that does not decode, its correlation id (the order id for
// every event of an order's flow).
func orderKey(e es.Event) string {
	if orderID, _, ok := translate(e.Type, e.Data); ok {
		return orderID
	}
	return e.Metadata.CorrelationID
}

// poison tells an observed event that translate passed over because its
// body does not decode (a permanent failure: the event is parked) from one
// the saga has no use for (nil).
func poison(e es.Event) error {
	var err error
	if e.Type == order.TypePlaced {
		var p order.Placed
		err = json.Unmarshal(e.Data, &p)
	}
	if err == nil {
		var b body
		err = json.Unmarshal(e.Data, &b)
	}
	if err != nil {
		return es.Permanent(fmt.Errorf("saga: decode %s %s@%d: %w", e.Type, e.StreamID, e.Version, err))
	}
	return nil
}
