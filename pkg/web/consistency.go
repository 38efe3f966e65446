package web

import (
	"context"
	"errors"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ordo-platform/ordo/pkg/es"
)

// Waiter is a read model that can wait until it has applied every event up
// to a position.
type Waiter interface {
	WaitFor(ctx context.Context, p es.Position) error
}

// MinPositionParam is the query parameter of read-your-writes: the position
// a write returned.
const MinPositionParam = "min_position"

// AwaitMinPosition makes a read wait, at most bound, until the read model
// has reached the request's min_position. Without the parameter it returns
// at once. When the model cannot catch up in time the read fails with 503,
// problem type not-caught-up and Retry-After: 1 — it never serves older
// data silently.
func AwaitMinPosition(c echo.Context, w Waiter, bound time.Duration) error {
	raw := c.QueryParam(MinPositionParam)
	if raw == "" {
		return nil
	}
	pos, err := es.ParsePosition(raw)
	if err != nil {
		return Errorf(Invalid, "%s=%q: use the position a write returned (commit.prepare)", MinPositionParam, raw)
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), bound)
	defer cancel()
	if err := w.WaitFor(ctx, pos); err != nil {
		if errors.Is(c.Request().Context().Err(), context.Canceled) {
			return err
		}
		return &Error{Kind: Unavailable, Type: "not-caught-up", RetryAfter: 1, Err: err,
			Detail: "the read model has not reached position " + pos.String() + " within " + bound.String() + "; retry shortly"}
	}
	return nil
}
