package httpapi

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/money"
	"github.com/ordo-platform/ordo/pkg/tracing"
	"github.com/ordo-platform/ordo/pkg/web"

	"github.com/ordo-platform/ordo/services/inventory"
	"github.com/ordo-platform/ordo/services/inventory/internal/readmodel"
)

// product is a catalog item as clients see it.
type product struct {
	SKU       string      `json:"sku"`
	Name      string      `json:"name"`
	Price     money.Money `json:"price"`
	Available int         `json:"available"`
}

type productList struct {
	Items []product `json:"items"`
}

type restockRequest struct {
	Quantity int `json:"quantity"`
}

type reserveRequest struct {
	OrderID  string `json:"order_id"`
	Quantity int    `json:"quantity"`
}

type written struct {
	Position string `json:"position"`
}

type reserved struct {
	Position string `json:"position"`
	Status   string `json:"status"`
}

func toProduct(it readmodel.Item) product {
	return product{SKU: it.SKU, Name: it.Name, Price: it.Price, Available: it.Available}
}

func (h handlers) listProducts(c echo.Context) error {
	if err := web.AwaitMinPosition(c, h.waiter, ReadWait); err != nil {
		return err
	}
	items, err := h.catalog.List(c.Request().Context())
	if err != nil {
		return err
	}
	out := productList{Items: make([]product, len(items))}
	for i, it := range items {
		out.Items[i] = toProduct(it)
	}
	return c.JSON(http.StatusOK, out)
}

func (h handlers) getProduct(c echo.Context) error {
	sku := c.Param("sku")
	if err := inventory.ValidateSKU(sku); err != nil {
		return readmodel.ErrNotFound
	}
	if err := web.AwaitMinPosition(c, h.waiter, ReadWait); err != nil {
		return err
	}
	it, err := h.catalog.Get(c.Request().Context(), sku)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toProduct(it))
}

func (h handlers) restock(c echo.Context) error {
	var req restockRequest
	if err := web.Bind(c, &req); err != nil {
		return err
	}
	res, err := h.app.Restock(writeContext(c, ""), c.Param("sku"), req.Quantity)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, written{Position: res.Position.String()})
}

func (h handlers) reserve(c echo.Context) error {
	var req reserveRequest
	if err := web.Bind(c, &req); err != nil {
		return err
	}
	res, err := h.app.Reserve(writeContext(c, req.OrderID), req.OrderID, c.Param("sku"), req.Quantity)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, reserved{Position: res.Position.String(), Status: string(res.Status)})
}

func (h handlers) release(c echo.Context) error {
	orderID := c.Param("order_id")
	res, err := h.app.Release(writeContext(c, orderID), orderID, c.Param("sku"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, written{Position: res.Position.String()})
}

func (h handlers) commit(c echo.Context) error {
	orderID := c.Param("order_id")
	res, err := h.app.Commit(writeContext(c, orderID), orderID, c.Param("sku"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, written{Position: res.Position.String()})
}

// writeContext carries the metadata of the events a write appends: the
// order as correlation, the request as cause, the caller as actor, and the
// traceparent of the request's server span.
func writeContext(c echo.Context, correlationID string) context.Context {
	id, _ := web.IdentityFrom(c)
	md := es.Metadata{
		CorrelationID: correlationID,
		CausationID:   c.Response().Header().Get(echo.HeaderXRequestID),
		Actor:         id.User,
		TraceParent:   tracing.TraceParent(c.Request().Context()),
	}
	return es.WithMetadata(c.Request().Context(), md)
}
