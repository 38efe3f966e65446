package httpapi

import (
	"context"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/ordo-platform/ordo/pkg/web"
	"github.com/ordo-platform/ordo/services/order"
	"github.com/ordo-platform/ordo/services/order/internal/saga"
)

// SagaViews reads the order-fulfilment saga (*saga.Runner). The views come
// from the event store (the saga's stream and the order's streams), not a
// read model, so they are never behind the saga's decisions.
type SagaViews interface {
	Progress(ctx context.Context, orderID string) (saga.Progress, error)
	Timeline(ctx context.Context, orderID string) ([]saga.Entry, error)
	Stats(ctx context.Context) (saga.Stats, error)
}

// registerSaga adds GET /orders/{id}/saga, GET /orders/{id}/timeline and
// GET /admin/saga/stats when the service runs the saga.
func registerSaga(e *echo.Echo, cfg Config) {
	if cfg.Saga == nil {
		return
	}
	h := sagaHandlers{views: cfg.Saga}
	auth := web.RequireIdentity(cfg.IdentitySecret)
	e.GET("/orders/:id/saga", mapped(h.progress), auth)
	e.GET("/orders/:id/timeline", mapped(h.timeline), auth)
	e.GET("/admin/saga/stats", mapped(h.stats), auth, web.RequireRole(web.RoleAdmin))
}

type sagaHandlers struct{ views SagaViews }

// progress answers the saga's steps: {"order_id","customer_id","status","reason","steps":[…]}.
func (h sagaHandlers) progress(c echo.Context) error {
	p, err := h.owned(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

// timeline answers {"events":[{"position","stream","type","at","correlation_id","causation_id","data"}]}.
func (h sagaHandlers) timeline(c echo.Context) error {
	p, err := h.owned(c)
	if err != nil {
		return err
	}
	events, err := h.views.Timeline(c.Request().Context(), p.OrderID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"events": events})
}

func (h sagaHandlers) stats(c echo.Context) error {
	st, err := h.views.Stats(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, st)
}

// owned returns the order's saga if the caller may see it: its customer or
// an admin. Another customer's order looks exactly like a missing one.
func (h sagaHandlers) owned(c echo.Context) (saga.Progress, error) {
	orderID := c.Param("id")
	p, err := h.views.Progress(c.Request().Context(), orderID)
	if err != nil {
		return p, err
	}
	if id, _ := web.IdentityFrom(c); p.CustomerID != id.User && id.Role != web.RoleAdmin {
		return saga.Progress{}, &order.Error{Kind: order.ErrNotFound, Detail: fmt.Sprintf("order %s not found", orderID)}
	}
	return p, nil
}
