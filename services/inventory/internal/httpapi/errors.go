package httpapi

import (
	"errors"

	"github.com/labstack/echo/v4"

	"github.com/ordo-platform/ordo/pkg/web"

	"github.com/ordo-platform/ordo/services/inventory"
	"github.com/ordo-platform/ordo/services/inventory/internal/readmodel"
)

// mapped wraps a handler so every error it returns passes through
// problemOf: the one place domain errors become HTTP problems.
func mapped(h echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := h(c); err != nil {
			return problemOf(err)
		}
		return nil
	}
}

// problemOf maps inventory and read-model errors to web error kinds; web.As
// handles the rest (event store errors, already classified errors, and
// anything unknown as a 500 that hides its cause).
func problemOf(err error) error {
	var we *web.Error
	if errors.As(err, &we) {
		return we
	}
	var de *inventory.Error
	if errors.As(err, &de) {
		return &web.Error{Kind: domainKind(de.Kind), Detail: de.Detail, Err: err}
	}
	if errors.Is(err, readmodel.ErrNotFound) {
		return &web.Error{Kind: web.NotFound, Detail: "product not found", Err: err}
	}
	return web.As(err)
}

func domainKind(kind error) web.Kind {
	switch kind {
	case inventory.ErrInvalid:
		return web.Invalid
	case inventory.ErrNotFound:
		return web.NotFound
	case inventory.ErrConflict:
		return web.Conflict
	}
	return web.Internal
}
