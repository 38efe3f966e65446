// Package httpapi is the notify service's HTTP edge: the notification feeds
// per customer and per order (read from the Redis read model), the SMTP
// breaker's state, health, and the OpenAPI document.
package httpapi

import (
	"context"
	_ "embed"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/labstack/echo/v4"
	"github.com/sony/gobreaker/v2"

	"github.com/ordo-platform/ordo/pkg/web"

	"github.com/ordo-platform/ordo/services/notify"
	"github.com/ordo-platform/ordo/services/notify/internal/readmodel"
)

//go:embed openapi.yaml
var openapi []byte

// waitBound is how long a read waits for ?min_position.
const waitBound = 2 * time.Second

// maxID bounds ids in paths.
const maxID = 200

// Breaker exposes the SMTP circuit breaker.
type Breaker interface {
	Breaker() (name string, state gobreaker.State, counts gobreaker.Counts)
}

// Deps is what the handlers need.
type Deps struct {
	Feed    *readmodel.Feed
	Waiter  web.Waiter
	Breaker Breaker
	// Secret verifies the gateway's signed Ordo-Identity header.
	Secret []byte
	// Checks are the readiness checks of /readyz.
	Checks []web.Check
	// Options configure the echo edge (body limit, log).
	Options web.Options
}

type handlers struct{ Deps }

// New returns the service's echo instance with every route.
func New(d Deps) *echo.Echo {
	e := web.New(d.Options)
	h := handlers{d}
	web.Health(e, d.Checks...)
	e.GET("/openapi.yaml", func(c echo.Context) error { return c.Blob(http.StatusOK, "application/yaml", openapi) })
	auth := e.Group("", web.RequireIdentity(d.Secret))
	auth.GET("/customers/:id/notifications", h.customerFeed)
	auth.GET("/orders/:order_id/notifications", h.orderFeed)
	auth.GET("/admin/breaker", h.breaker, web.RequireRole(web.RoleAdmin))
	return e
}

type feed struct {
	Items []readmodel.Item `json:"items"`
}

func (h handlers) customerFeed(c echo.Context) error {
	customer, err := pathID(c, "id", "customer id")
	if err != nil {
		return err
	}
	if id, _ := web.IdentityFrom(c); id.Role != web.RoleAdmin && id.User != customer {
		return web.Errorf(web.Forbidden, "you may read only your own notifications")
	}
	if err := web.AwaitMinPosition(c, h.Waiter, waitBound); err != nil {
		return err
	}
	items, err := h.Feed.ByCustomer(c.Request().Context(), customer)
	if err != nil {
		return problem(err)
	}
	return c.JSON(http.StatusOK, feed{Items: items})
}

func (h handlers) orderFeed(c echo.Context) error {
	orderID, err := pathID(c, "order_id", "order id")
	if err != nil {
		return err
	}
	if err := web.AwaitMinPosition(c, h.Waiter, waitBound); err != nil {
		return err
	}
	customer, items, err := h.Feed.ByOrder(c.Request().Context(), orderID)
	if err != nil {
		return problem(err)
	}
	// Another customer's order reads as unknown: its existence is not theirs to learn.
	if id, _ := web.IdentityFrom(c); id.Role != web.RoleAdmin && id.User != customer {
		return problem(readmodel.ErrUnknownOrder)
	}
	for i := range items {
		items[i].OrderID = ""
	}
	return c.JSON(http.StatusOK, feed{Items: items})
}

type breakerView struct {
	Name   string       `json:"name"`
	State  string       `json:"state"`
	Counts breakerCount `json:"counts"`
}

type breakerCount struct {
	Requests             uint32 `json:"requests"`
	TotalSuccesses       uint32 `json:"total_successes"`
	TotalFailures        uint32 `json:"total_failures"`
	ConsecutiveSuccesses uint32 `json:"consecutive_successes"`
	ConsecutiveFailures  uint32 `json:"consecutive_failures"`
}

func (h handlers) breaker(c echo.Context) error {
	name, state, n := h.Breaker.Breaker()
	return c.JSON(http.StatusOK, breakerView{Name: name, State: state.String(), Counts: breakerCount{
		Requests: n.Requests, TotalSuccesses: n.TotalSuccesses, TotalFailures: n.TotalFailures,
		ConsecutiveSuccesses: n.ConsecutiveSuccesses, ConsecutiveFailures: n.ConsecutiveFailures,
	}})
}

// pathID reads and checks an id path parameter: 1..200 bytes, no white
// space or control characters.
func pathID(c echo.Context, param, what string) (string, error) {
	raw := c.Param(param)
	v, err := url.PathUnescape(raw)
	switch {
	case err != nil:
		return "", web.Errorf(web.Invalid, "%s %q is not valid URL escaping", what, raw)
	case v == "" || len(v) > maxID:
		return "", web.Errorf(web.Invalid, "%s must be 1 to %d bytes", what, maxID)
	case strings.IndexFunc(v, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		return "", web.Errorf(web.Invalid, "%s %q contains white space or a control character", what, v)
	}
	return v, nil
}

// problem maps domain and read-model errors to web kinds: the one place
// that does.
func problem(err error) error {
	switch {
	case errors.Is(err, readmodel.ErrUnknownOrder):
		return &web.Error{Kind: web.NotFound, Type: "unknown-order", Detail: "no such order", Err: err}
	case errors.Is(err, notify.ErrInvalid):
		return &web.Error{Kind: web.Invalid, Detail: err.Error(), Err: err}
	case errors.Is(err, notify.ErrNotFound):
		return &web.Error{Kind: web.NotFound, Detail: err.Error(), Err: err}
	case errors.Is(err, notify.ErrConflict):
		return &web.Error{Kind: web.Conflict, Detail: err.Error(), Err: err}
	case errors.Is(err, context.DeadlineExceeded):
		return &web.Error{Kind: web.Unavailable, Detail: "the read model did not answer in time", Err: err, RetryAfter: 1}
	}
	return web.As(err)
}
