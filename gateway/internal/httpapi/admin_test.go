package httpapi_test

import (
	"net/http"
	"testing"
)

// The operator status lists each backend's projection lag as the backend
// reports it, marks a backend that could not be asked as unknown, and
// leaves out the provider simulator, which keeps no read models.
func TestAdminStatusListsProjectionLag(t *testing.T) {
	f := newFakes(t)
	orders := f.order.Config.Handler
	f.order.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/admin/projections" {
			if _, ok := f.identity(w, r); !ok {
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{
				"orders": map[string]any{"events": 3, "seconds": 1.5, "checkpoint": "7.1", "head": "9.2"},
				"prices": map[string]any{"events": 0, "seconds": 0, "checkpoint": "9.2", "head": "9.2"},
			})
			return
		}
		orders.ServeHTTP(w, r)
	})
	g := newGateway(t, defaults(), f)
	st := g.do(t, req{method: "GET", path: "/api/v1/admin/status", token: g.login(t, "admin")})
	wantStatus(t, st, http.StatusOK)
	projs := st.json(t)["projections"].(map[string]any)
	if len(projs) != 4 || projs["provider-sim"] != nil {
		t.Fatalf("projections %v, want order, inventory, payment and notify", projs)
	}
	order := projs["order"].(map[string]any)
	if o := order["orders"].(map[string]any); o["events"] != 3.0 || o["checkpoint"] != "7.1" {
		t.Errorf("order/orders %v", o)
	}
	if p := order["prices"].(map[string]any); p["events"] != 0.0 {
		t.Errorf("order/prices %v", p)
	}
	for _, svc := range []string{"inventory", "payment", "notify"} {
		if s := projs[svc].(map[string]any); s["status"] != "unknown" || s["detail"] == "" {
			t.Errorf("%s: %v, want status unknown with a detail (its fake has no /admin/projections)", svc, s)
		}
	}
}
