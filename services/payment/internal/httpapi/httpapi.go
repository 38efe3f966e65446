// Package httpapi is the payment service's HTTP edge: capture, refund and
// reconcile a payment, read it from the read model, see the provider
// breaker, and the OpenAPI description of all of it.
package httpapi

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/labstack/echo/v4"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/money"
	"github.com/ordo-platform/ordo/pkg/tracing"
	"github.com/ordo-platform/ordo/pkg/web"
	"github.com/ordo-platform/ordo/services/payment/internal/app"
	"github.com/ordo-platform/ordo/services/payment/internal/provider"
	"github.com/ordo-platform/ordo/services/payment/internal/readmodel"
)

//go:embed openapi.yaml
var openapi []byte

// ReadBound is how long a read waits for ?min_position.
const ReadBound = 2 * time.Second

// maxOrderID is the domain's bound on ids.
const maxOrderID = 200

// Deps are what the handlers use.
type Deps struct {
	App     *app.Service
	Reader  readmodel.Reader
	Waiter  web.Waiter
	Breaker func() provider.BreakerState
	Secret  []byte
	Log     *slog.Logger
	// Checks are the readiness checks (store, Redis, provider, projection).
	Checks []web.Check
}

type handlers struct{ Deps }

// New returns the service's echo instance.
func New(d Deps) *echo.Echo {
	e := web.New(web.Options{Log: d.Log})
	h := handlers{d}
	web.Health(e, d.Checks...)
	e.GET("/openapi.yaml", func(c echo.Context) error { return c.Blob(http.StatusOK, "application/yaml", openapi) })
	auth := web.RequireIdentity(d.Secret)
	e.POST("/payments/:order_id/capture", handle(h.capture), auth)
	e.POST("/payments/:order_id/refund", handle(h.refund), auth)
	e.POST("/payments/:order_id/reconcile", handle(h.reconcile), auth)
	e.GET("/payments/:order_id", handle(h.get), auth)
	e.GET("/admin/breaker", func(c echo.Context) error { return c.JSON(http.StatusOK, d.Breaker()) },
		auth, web.RequireRole(web.RoleAdmin))
	return e
}

// captureRequest is the body of POST /payments/{order_id}/capture.
type captureRequest struct {
	Amount *money.Money `json:"amount"`
}

// writeResponse answers every write.
type writeResponse struct {
	OrderID       string `json:"order_id"`
	Position      string `json:"position"`
	Status        string `json:"status"`
	ProviderRef   string `json:"provider_ref,omitempty"`
	DeclineReason string `json:"decline_reason,omitempty"`
	RefundRef     string `json:"refund_ref,omitempty"`
	Cancelled     bool   `json:"cancelled"`
}

func (h handlers) capture(c echo.Context) error {
	id, err := orderID(c)
	if err != nil {
		return err
	}
	var req captureRequest
	if err := web.Bind(c, &req); err != nil {
		return err
	}
	if req.Amount == nil {
		return web.Errorf(web.Invalid, `field "amount" is required: {"amount": <minor units>, "currency": "EUR"}`)
	}
	res, err := h.App.Capture(metadata(c, id), id, *req.Amount)
	return written(c, res, err)
}

func (h handlers) refund(c echo.Context) error {
	return h.noBodyWrite(c, h.App.Refund)
}

func (h handlers) reconcile(c echo.Context) error {
	return h.noBodyWrite(c, h.App.Reconcile)
}

func (h handlers) noBodyWrite(c echo.Context, op func(context.Context, string) (app.Result, error)) error {
	id, err := orderID(c)
	if err != nil {
		return err
	}
	if err := emptyBody(c); err != nil {
		return err
	}
	res, err := op(metadata(c, id), id)
	return written(c, res, err)
}

func (h handlers) get(c echo.Context) error {
	id, err := orderID(c)
	if err != nil {
		return err
	}
	if err := web.AwaitMinPosition(c, h.Waiter, ReadBound); err != nil {
		return err
	}
	v, ok, err := h.Reader.Get(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if !ok {
		return web.Errorf(web.NotFound, "no payment for order %s", id)
	}
	return c.JSON(http.StatusOK, v)
}

func written(c echo.Context, res app.Result, err error) error {
	if err != nil {
		return err
	}
	status := string(res.Status)
	if res.Status == "" {
		status = "cancelled" // called off before it was requested
	}
	return c.JSON(http.StatusAccepted, writeResponse{
		OrderID: res.OrderID, Position: res.Position.String(), Status: status, ProviderRef: res.ProviderRef,
		DeclineReason: res.DeclineReason, RefundRef: res.RefundRef, Cancelled: res.Cancelled,
	})
}

// orderID returns the path's order id, checked the way the event store
// checks stream ids.
func orderID(c echo.Context) (string, error) {
	id, err := url.PathUnescape(c.Param("order_id"))
	switch {
	case err != nil || id == "":
		return "", web.Errorf(web.Invalid, "order id %q is not a valid path segment", c.Param("order_id"))
	case len(id) > maxOrderID:
		return "", web.Errorf(web.Invalid, "order id is %d bytes; the limit is %d", len(id), maxOrderID)
	case strings.IndexFunc(id, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		return "", web.Errorf(web.Invalid, "order id %q contains white space or a control character", id)
	}
	return id, nil
}

// emptyBody accepts no body or an empty JSON object, and nothing else.
func emptyBody(c echo.Context) error {
	b, err := io.ReadAll(c.Request().Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) || errors.Is(err, echo.ErrStatusRequestEntityTooLarge) {
			return &web.Error{Kind: web.TooLarge, Detail: "request body is larger than this endpoint accepts", Err: err}
		}
		return &web.Error{Kind: web.Invalid, Detail: "could not read the request body", Err: err}
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	return web.Decode(b, &struct{}{})
}

// metadata carries the request's provenance into the events it causes.
func metadata(c echo.Context, orderID string) context.Context {
	actor := app.Actor
	if id, ok := web.IdentityFrom(c); ok {
		actor = id.User
	}
	return es.WithMetadata(c.Request().Context(), es.Metadata{
		CorrelationID: orderID,
		CausationID:   c.Response().Header().Get(echo.HeaderXRequestID),
		TraceParent:   tracing.TraceParent(c.Request().Context()),
		Actor:         actor,
	})
}
