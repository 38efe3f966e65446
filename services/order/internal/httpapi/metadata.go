package httpapi

import (
	"github.com/labstack/echo/v4"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/tracing"
	"github.com/ordo-platform/ordo/pkg/web"
)

// stampMetadata puts the event metadata a request's writes carry into its
// context: the caller as actor, the request id as causation and the
// traceparent of the request's server span, so the saga's handling of the
// events continues the request's trace.
func stampMetadata(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, _ := web.IdentityFrom(c)
		req := c.Request()
		md := es.Metadata{Actor: id.User, CausationID: c.Response().Header().Get(echo.HeaderXRequestID),
			TraceParent: tracing.TraceParent(req.Context())}
		c.SetRequest(req.WithContext(es.WithMetadata(req.Context(), md)))
		return next(c)
	}
}
