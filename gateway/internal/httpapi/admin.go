package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/ordo-platform/ordo/gateway/internal/upstream"
	"github.com/ordo-platform/ordo/pkg/web"
)

// serviceStatus is one backend's health as the gateway sees it.
type serviceStatus struct {
	Ready  bool   `json:"ready"`
	Status string `json:"status"` // ready, unavailable (its /readyz failed) or unreachable
	// Breaker is the gateway's breaker in front of the backend.
	Breaker upstream.BreakerStatus `json:"breaker"`
	// Breakers is what the backend reports about its own breakers (payment
	// → provider, notify → mail server), or null.
	Breakers json.RawMessage `json:"breakers"`
	// Parked counts the events the backend's subscribers parked
	// (GET /admin/parked/count: parked, replayed, parked_since_start), or
	// null.
	Parked json.RawMessage `json:"parked"`
	// projections is the backend's GET /admin/projections, or nil; the
	// status view lists it under projections.
	projections json.RawMessage
}

type statusView struct {
	Services map[string]serviceStatus `json:"services"`
	// Projections is, per backend with read models, its projections' lag
	// keyed by projection name ({"orders": {"events": 0, "seconds": 0,
	// "checkpoint": "…", "head": "…"}}), or {"status": "unknown",
	// "detail": …} when the backend could not be asked.
	Projections map[string]json.RawMessage `json:"projections"`
	// Sagas is the order service's saga statistics (started, running,
	// completed, outcomes by reason, duration percentiles), or unknownPart
	// when it cannot be read.
	Sagas json.RawMessage `json:"sagas"`
}

// status asks every backend for /readyz and (payment, notify) its own
// breakers, in parallel, directly rather than through the gateway's
// breakers so that probing never trips or resets them.
func (h *handlers) status(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), h.to.Admin)
	defer cancel()
	out := statusView{
		Services:    map[string]serviceStatus{},
		Projections: map[string]json.RawMessage{},
		Sagas:       unknownSagas,
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	// Built once here: echo.Context is not safe to use from the goroutines.
	base := h.call(c, http.MethodGet, "", 0)
	for _, cl := range h.be.all() {
		wg.Go(func() {
			s := h.probe(ctx, base, cl)
			mu.Lock()
			out.Services[cl.Name()] = s
			if cl != h.be.Simulator { // the simulator keeps no read models
				out.Projections[cl.Name()] = s.projections
				if s.projections == nil {
					out.Projections[cl.Name()] = unknownProjections
				}
			}
			mu.Unlock()
		})
	}
	wg.Go(func() {
		if stats := h.sagaStats(ctx, base); stats != nil {
			mu.Lock()
			out.Sagas = stats
			mu.Unlock()
		}
	})
	wg.Wait()
	return c.JSON(http.StatusOK, out)
}

var unknownProjections = json.RawMessage(`{"status":"unknown","detail":"the service's projection lag could not be read"}`)

var unknownSagas = json.RawMessage(`{"status":"unknown","detail":"the order service's saga statistics could not be read"}`)

// sagaStats reads the order service's saga statistics, or returns nil.
func (h *handlers) sagaStats(ctx context.Context, base upstream.Request) json.RawMessage {
	r := base
	r.Path = "/admin/saga/stats"
	resp, err := h.be.Order.Probe(ctx, r)
	if err != nil || resp.Status != http.StatusOK || !json.Valid(resp.Body) {
		return nil
	}
	return resp.Body
}

func (h *handlers) probe(ctx context.Context, base upstream.Request, cl *upstream.Client) serviceStatus {
	at := func(path string) upstream.Request { r := base; r.Path = path; return r }
	s := serviceStatus{Status: "unreachable", Breaker: cl.Breaker().Status(), Breakers: json.RawMessage("null"), Parked: json.RawMessage("null")}
	resp, err := cl.Probe(ctx, at("/readyz"))
	if err == nil {
		s.Ready = resp.Status == http.StatusOK
		s.Status = map[bool]string{true: "ready", false: "unavailable"}[s.Ready]
	}
	if cl == h.be.Payment || cl == h.be.Notify {
		resp, err := cl.Probe(ctx, at("/admin/breaker"))
		if err == nil && resp.Status == http.StatusOK && json.Valid(resp.Body) {
			s.Breakers = resp.Body
		}
	}
	if resp, err := cl.Probe(ctx, at("/admin/parked/count")); err == nil && resp.Status == http.StatusOK && json.Valid(resp.Body) {
		s.Parked = resp.Body
	}
	if cl != h.be.Simulator {
		if resp, err := cl.Probe(ctx, at("/admin/projections")); err == nil && resp.Status == http.StatusOK && json.Valid(resp.Body) {
			s.projections = resp.Body
		}
	}
	return s
}

// faults are the provider simulator's knobs; omitted ones keep their value.
type faults struct {
	DeclineRate      *float64 `json:"decline_rate,omitempty"`
	ErrorRate        *float64 `json:"error_rate,omitempty"`
	LatencyMS        *int     `json:"latency_ms,omitempty"`
	LostResponseRate *float64 `json:"lost_response_rate,omitempty"`
}

func (f faults) validate() error {
	for name, r := range map[string]*float64{"decline_rate": f.DeclineRate, "error_rate": f.ErrorRate, "lost_response_rate": f.LostResponseRate} {
		if r != nil && (*r < 0 || *r > 1) {
			return web.Errorf(web.Invalid, "%s must be between 0 and 1, not %g", name, *r)
		}
	}
	if f.LatencyMS != nil && (*f.LatencyMS < 0 || *f.LatencyMS > 60000) {
		return web.Errorf(web.Invalid, "latency_ms must be between 0 and 60000, not %d", *f.LatencyMS)
	}
	return nil
}

func (h *handlers) getFaults(c echo.Context) error {
	return h.proxy(c, h.be.Simulator, h.call(c, http.MethodGet, "/v1/faults", h.to.Read))
}

func (h *handlers) putFaults(c echo.Context) error {
	var f faults
	body, err := readJSON(c, &f)
	if err != nil {
		return err
	}
	if err := f.validate(); err != nil {
		return err
	}
	r := h.call(c, http.MethodPut, "/v1/faults", h.to.Write)
	r.Body = body
	return h.proxy(c, h.be.Simulator, r)
}
