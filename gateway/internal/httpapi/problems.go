package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/ordo-platform/ordo/gateway/internal/upstream"
	"github.com/ordo-platform/ordo/pkg/web"
)

// statusError is a problem with a status web's kinds do not cover (502,
// 504, 431, 501). Everything else is a *web.Error.
type statusError struct {
	status     int
	typ        string
	detail     string
	retryAfter int
	err        error
}

func (e *statusError) Error() string {
	if e.err != nil {
		return e.detail + ": " + e.err.Error()
	}
	return e.detail
}

func (e *statusError) Unwrap() error { return e.err }

// errorHandler writes statusErrors itself and leaves the rest to web's.
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	base := web.ErrorHandler(log)
	return func(err error, c echo.Context) {
		var se *statusError
		if !errors.As(err, &se) || c.Response().Committed {
			base(err, c)
			return
		}
		if se.status >= 500 {
			log.WarnContext(c.Request().Context(), "request failed", "method", c.Request().Method, "path", c.Path(), "status", se.status, "err", err)
		}
		writeStatusProblem(c, se)
	}
}

func writeStatusProblem(c echo.Context, se *statusError) {
	if se.retryAfter > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(se.retryAfter))
	}
	_ = web.WriteProblem(c, web.Problem{ // the client went away; nothing to do
		Type: web.ProblemTypeBase + se.typ, Title: http.StatusText(se.status), Status: se.status,
		Detail: se.detail, Instance: c.Request().URL.Path,
	})
}

// upstreamFailure turns a failed backend call into the client's problem:
// an open breaker or a refused connection is 503 with Retry-After, a
// timeout 504, a backend's 5xx 502. The backend's own detail is not shown.
func upstreamFailure(err error, retryAfter int) error {
	var ue *upstream.Error
	name := "a backend"
	if errors.As(err, &ue) {
		name = ue.Upstream
	}
	var se *upstream.StatusError
	switch {
	case ue != nil && ue.Open:
		return &web.Error{Kind: web.Unavailable, Type: "upstream-unavailable", RetryAfter: retryAfter, Err: err,
			Detail: name + " is unavailable (its circuit breaker is open); retry later"}
	case errors.Is(err, context.DeadlineExceeded):
		return &statusError{status: http.StatusGatewayTimeout, typ: "upstream-timeout", err: err,
			detail: name + " did not answer in time"}
	case errors.As(err, &se):
		return &statusError{status: http.StatusBadGateway, typ: "upstream-error", err: err,
			detail: name + " failed to answer (status " + strconv.Itoa(se.Response.Status) + ")"}
	}
	return &web.Error{Kind: web.Unavailable, Type: "upstream-unavailable", RetryAfter: 1, Err: err,
		Detail: name + " is unreachable; retry shortly"}
}
