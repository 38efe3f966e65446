package httpapi

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ordo-platform/ordo/pkg/money"
	"github.com/ordo-platform/ordo/pkg/web"
)

// orderIDRE keeps path tricks out of backend URLs; an id that cannot exist
// is simply not found.
var orderIDRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)

// placeRequest is the whole of POST /api/v1/orders: a price, status or
// total sent by the client is an unknown field, hence 400.
type placeRequest struct {
	Lines []placeLine `json:"lines"`
}

type placeLine struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

func (r placeRequest) validate() error {
	if len(r.Lines) == 0 {
		return web.Errorf(web.Invalid, "lines must hold at least one {sku, quantity}")
	}
	for i, l := range r.Lines {
		if l.SKU == "" {
			return web.Errorf(web.Invalid, "lines[%d].sku is missing", i)
		}
		if l.Quantity <= 0 {
			return web.Errorf(web.Invalid, "lines[%d].quantity must be a positive integer, not %d", i, l.Quantity)
		}
	}
	return nil
}

// line and orderBackend are the order service's read model as it answers.
type line struct {
	SKU       string      `json:"sku"`
	Quantity  int         `json:"quantity"`
	UnitPrice money.Money `json:"unit_price"`
}

type orderBackend struct {
	ID                    string      `json:"id"`
	Customer              string      `json:"customer"`
	Status                string      `json:"status"`
	Reason                string      `json:"reason,omitempty"`
	CancellationRequested bool        `json:"cancellation_requested,omitempty"`
	Lines                 []line      `json:"lines"`
	Total                 money.Money `json:"total"`
	PlacedAt              time.Time   `json:"placed_at"`
	UpdatedAt             time.Time   `json:"updated_at"`
}

// orderSummary is an order in the public list (the customer is the caller).
type orderSummary struct {
	ID                    string      `json:"id"`
	Status                string      `json:"status"`
	Reason                string      `json:"reason,omitempty"`
	CancellationRequested bool        `json:"cancellation_requested,omitempty"`
	Lines                 []line      `json:"lines"`
	Total                 money.Money `json:"total"`
	PlacedAt              time.Time   `json:"placed_at"`
	UpdatedAt             time.Time   `json:"updated_at"`
}

func summarize(o orderBackend) orderSummary {
	if o.Lines == nil {
		o.Lines = []line{}
	}
	return orderSummary{ID: o.ID, Status: o.Status, Reason: o.Reason, CancellationRequested: o.CancellationRequested,
		Lines: o.Lines, Total: o.Total, PlacedAt: o.PlacedAt, UpdatedAt: o.UpdatedAt}
}

type orderPage struct {
	Items      []orderSummary `json:"items"`
	NextCursor *string        `json:"next_cursor"`
}

func (h *handlers) placeOrder(c echo.Context) error {
	var req placeRequest
	body, err := readJSON(c, &req)
	if err != nil {
		return err
	}
	if err := req.validate(); err != nil {
		return err
	}
	r := h.call(c, http.MethodPost, "/orders", h.to.Write)
	r.Body = body
	// The key travels on: if this call times out after the order service
	// placed the order, a retry with the same key places the same order.
	r.IdempotencyKey = c.Request().Header.Get("Idempotency-Key")
	resp, err := h.fetch(c, h.be.Order, r)
	if err != nil {
		return h.relayError(c, err)
	}
	var placed struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(resp.Body, &placed); err != nil || placed.ID == "" {
		return &statusError{status: http.StatusBadGateway, typ: "upstream-error", err: err,
			detail: "the order service answered without an order id"}
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/orders/"+url.PathEscape(placed.ID))
	return c.Blob(resp.Status, echo.MIMEApplicationJSON, resp.Body)
}

func (h *handlers) listOrders(c echo.Context) error {
	r := h.call(c, http.MethodGet, "/orders", h.to.Read)
	r.Query = passQuery(c, "limit", "cursor", web.MinPositionParam)
	resp, err := h.fetch(c, h.be.Order, r)
	if err != nil {
		return h.relayError(c, err)
	}
	var page struct {
		Items      []orderBackend `json:"items"`
		NextCursor *string        `json:"next_cursor"`
	}
	if err := json.Unmarshal(resp.Body, &page); err != nil {
		return &statusError{status: http.StatusBadGateway, typ: "upstream-error", err: err, detail: "the order service's list is unreadable"}
	}
	id := caller(c)
	out := orderPage{Items: make([]orderSummary, 0, len(page.Items)), NextCursor: page.NextCursor}
	for _, o := range page.Items {
		// The service lists the caller's own; the gateway checks again.
		if o.Customer == id.User {
			out.Items = append(out.Items, summarize(o))
		}
	}
	if out.NextCursor != nil && strings.TrimSpace(*out.NextCursor) == "" {
		out.NextCursor = nil
	}
	return c.JSON(http.StatusOK, out)
}

func (h *handlers) cancelOrder(c echo.Context) error {
	id := c.Param("id")
	if !orderIDRE.MatchString(id) {
		return web.Errorf(web.NotFound, "order %q not found", id)
	}
	// Ownership is enforced by the order service with the identity signed
	// here: another customer's order answers 404 there, as a missing one.
	r := h.call(c, http.MethodPost, "/orders/"+url.PathEscape(id)+"/cancel", h.to.Write)
	return h.proxy(c, h.be.Order, r)
}
