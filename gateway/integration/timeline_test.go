package integration

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// testTimeline places an order and reads its timeline through the gateway:
// the order's own events and the fulfilment saga's, in global order; another
// customer gets 404.
func (e *env) testTimeline(t *testing.T) {
	p := e.place(t, e.alice, e.orderSKU, 1)
	var tl struct {
		Events []struct {
			Position string `json:"position"`
			Stream   string `json:"stream"`
			Type     string `json:"type"`
		} `json:"events"`
	}
	eventually(t, 20*time.Second, func() error {
		r := e.api.do(t, req{method: "GET", path: "/api/v1/orders/" + p.ID + "/timeline", token: e.alice})
		if r.status != http.StatusOK {
			return fmt.Errorf("timeline: %d %s", r.status, r.body)
		}
		r.into(t, &tl)
		streams := map[string]bool{}
		for _, ev := range tl.Events {
			streams[ev.Stream] = true
		}
		if !streams["order-"+p.ID] || !streams["fulfilment-"+p.ID] {
			return fmt.Errorf("timeline has streams %v, want the order's and its saga's", streams)
		}
		return nil
	})
	if tl.Events[0].Type != "order.placed" {
		t.Errorf("first event is %s, want order.placed", tl.Events[0].Type)
	}
	r := e.api.do(t, req{method: "GET", path: "/api/v1/orders/" + p.ID + "/timeline", token: e.bob})
	wantStatus(t, r, http.StatusNotFound)
}
