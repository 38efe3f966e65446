package httpapi

import (
	"regexp"

	"github.com/labstack/echo/v4"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/web"
)

// traceParent is the W3C traceparent header's form (version 00).
var traceParent = regexp.MustCompile(`^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$`)

// stampMetadata puts the event metadata a request's writes carry into its
// context: the caller as actor, the request id as causation and the
// incoming trace. A malformed traceparent is dropped rather than stored.
func stampMetadata(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, _ := web.IdentityFrom(c)
		md := es.Metadata{Actor: id.User, CausationID: c.Response().Header().Get(echo.HeaderXRequestID)}
		if tp := c.Request().Header.Get("traceparent"); traceParent.MatchString(tp) {
			md.TraceParent = tp
		}
		req := c.Request()
		c.SetRequest(req.WithContext(es.WithMetadata(req.Context(), md)))
		return next(c)
	}
}
