package httpapi

import (
	"errors"

	"github.com/labstack/echo/v4"

	"github.com/ordo-platform/ordo/pkg/projection"
	"github.com/ordo-platform/ordo/pkg/web"
	"github.com/ordo-platform/ordo/services/order"
	"github.com/ordo-platform/ordo/services/order/internal/readmodel"
	"github.com/ordo-platform/ordo/services/order/internal/saga"
)

// mapped wraps a handler so its errors pass through problem, the one place
// domain and read-model errors get their HTTP meaning.
func mapped(h echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error { return problem(h(c)) }
}

// problem maps an error to a web.Error; what it does not know, web.As
// classifies (store errors) or turns into a plain 500.
func problem(err error) error {
	if err == nil {
		return nil
	}
	var de *order.Error
	var we *web.Error
	switch {
	case errors.As(err, &we):
		return we
	case errors.As(err, &de):
		return &web.Error{Kind: domainKind(de.Kind), Detail: de.Detail, Err: err}
	case errors.Is(err, readmodel.ErrBadCursor):
		return &web.Error{Kind: web.Invalid, Detail: "cursor: use the next_cursor of a previous page", Err: err}
	case errors.Is(err, readmodel.ErrNotFound):
		return &web.Error{Kind: web.NotFound, Detail: "order not found", Err: err}
	case errors.Is(err, saga.ErrNoSaga):
		return &web.Error{Kind: web.NotFound, Detail: "order not found (or its saga has not started yet)", Err: err}
	case errors.Is(err, projection.ErrNotCaughtUp):
		return &web.Error{Kind: web.Unavailable, Type: "not-caught-up", RetryAfter: 1, Err: err,
			Detail: "the price catalog is catching up with the inventory service; retry shortly"}
	}
	return err
}

func domainKind(kind error) web.Kind {
	switch kind {
	case order.ErrInvalid:
		return web.Invalid
	case order.ErrNotFound:
		return web.NotFound
	case order.ErrConflict:
		return web.Conflict
	}
	return web.Internal
}
