package httpapi

import (
	"errors"

	"github.com/labstack/echo/v4"

	"github.com/ordo-platform/ordo/pkg/web"
	"github.com/ordo-platform/ordo/services/payment"
	"github.com/ordo-platform/ordo/services/payment/internal/app"
)

// handle maps every error a handler returns to a web.Error: the one place
// where domain and provider errors become HTTP problems.
func handle(h echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := h(c); err != nil {
			return problem(err)
		}
		return nil
	}
}

func problem(err error) error {
	var de *payment.Error
	var we *web.Error
	switch {
	case errors.As(err, &we):
		return we
	case errors.As(err, &de):
		return &web.Error{Kind: domainKind(de.Kind), Detail: de.Detail, Err: err}
	case errors.Is(err, app.ErrProviderUnavailable):
		return &web.Error{Kind: web.Unavailable, Type: "provider-unavailable", RetryAfter: 1, Err: err,
			Detail: "the payment provider gave no answer; what is recorded is unchanged or the outcome is unknown; retry shortly"}
	case errors.Is(err, app.ErrProviderRejected):
		return &web.Error{Kind: web.Unprocessable, Type: "provider-rejected", Err: err,
			Detail: "the payment provider refused the request"}
	}
	return web.As(err)
}

func domainKind(kind error) web.Kind {
	switch kind {
	case payment.ErrInvalid:
		return web.Invalid
	case payment.ErrNotFound:
		return web.NotFound
	case payment.ErrConflict:
		return web.Conflict
	}
	return web.Internal
}
