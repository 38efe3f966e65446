package httpapi

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/ordo-platform/ordo/pkg/web"
	"github.com/ordo-platform/ordo/services/order"
	"github.com/ordo-platform/ordo/services/order/internal/app"
	"github.com/ordo-platform/ordo/services/order/internal/readmodel"
)

// Page sizes of GET /orders.
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

type handlers struct {
	app    *app.Service
	orders Orders
	waiter web.Waiter
}

// placeRequest is the whole body of POST /orders. Items carry a SKU and a
// quantity only: strict binding rejects a price, status or total.
type placeRequest struct {
	Lines []order.Item `json:"lines"`
}

type placeResponse struct {
	ID       string       `json:"id"`
	Status   order.Status `json:"status"`
	Position string       `json:"position"`
}

type positionResponse struct {
	Position string `json:"position"`
}

type listResponse struct {
	Items      []readmodel.OrderView `json:"items"`
	NextCursor *string               `json:"next_cursor"` // null on the last page
}

func (h handlers) place(c echo.Context) error {
	var req placeRequest
	if err := web.Bind(c, &req); err != nil {
		return err
	}
	id, _ := web.IdentityFrom(c)
	// The gateway passes the client's Idempotency-Key on: a retried request
	// then finds the order it placed (see app.PlaceOnce).
	p, err := h.app.PlaceOnce(c.Request().Context(), id.User, c.Request().Header.Get("Idempotency-Key"), req.Lines)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/orders/"+p.ID)
	return c.JSON(http.StatusAccepted, placeResponse{ID: p.ID, Status: order.StatusPending, Position: p.Position.String()})
}

func (h handlers) get(c echo.Context) error {
	if err := web.AwaitMinPosition(c, h.waiter, ReadWait); err != nil {
		return err
	}
	orderID := c.Param("id")
	view, err := h.orders.Get(c.Request().Context(), orderID)
	if err != nil {
		return err
	}
	if id, _ := web.IdentityFrom(c); view.Customer != id.User && id.Role != web.RoleAdmin {
		// Another customer's order looks exactly like a missing one.
		return &order.Error{Kind: order.ErrNotFound, Detail: fmt.Sprintf("order %s not found", orderID)}
	}
	return c.JSON(http.StatusOK, view)
}

func (h handlers) list(c echo.Context) error {
	limit, err := limitParam(c.QueryParam("limit"))
	if err != nil {
		return err
	}
	if err := web.AwaitMinPosition(c, h.waiter, ReadWait); err != nil {
		return err
	}
	id, _ := web.IdentityFrom(c)
	page, err := h.orders.ListByCustomer(c.Request().Context(), id.User, limit, c.QueryParam("cursor"))
	if err != nil {
		return err
	}
	res := listResponse{Items: page.Items}
	if page.NextCursor != "" {
		res.NextCursor = &page.NextCursor
	}
	return c.JSON(http.StatusOK, res)
}

func limitParam(raw string) (int, error) {
	if raw == "" {
		return DefaultLimit, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > MaxLimit {
		return 0, web.Errorf(web.Invalid, "limit=%q: want an integer from 1 to %d", raw, MaxLimit)
	}
	return n, nil
}

func (h handlers) cancel(c echo.Context) error {
	id, _ := web.IdentityFrom(c)
	customer := id.User
	if id.Role == web.RoleAdmin {
		customer = app.AnyCustomer
	}
	pos, err := h.app.RequestCancellation(c.Request().Context(), customer, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, positionResponse{Position: pos.String()})
}
