package httpapi

import (
	"net/http"
	"regexp"
	"strings"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel/trace"

	"github.com/ordo-platform/ordo/pkg/tracing"
	"github.com/ordo-platform/ordo/pkg/web"
)

// hopByHop are the RFC 9110 connection-specific headers; a proxy never
// forwards them.
var hopByHop = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

var requestIDRE = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// edge runs before routing: it drops any identity header a client sent
// (only the gateway signs identity) and the headers named in Connection,
// enforces the header size limit (431), keeps a client's X-Request-Id only
// when it is a sane token. The trace starts (or continues the client's
// traceparent) in web.New's tracing middleware, after routing.
func edge(headerLimit int) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Request().Header
			if headerBytes(h) > headerLimit {
				return &statusError{status: http.StatusRequestHeaderFieldsTooLarge, typ: "headers-too-large",
					detail: "request headers are larger than the gateway accepts"}
			}
			stripHopByHop(h)
			h.Del(web.HeaderIdentity)
			if id := h.Get(echo.HeaderXRequestID); id != "" && !requestIDRE.MatchString(id) {
				h.Del(echo.HeaderXRequestID)
			}
			return next(c)
		}
	}
}

func stripHopByHop(h http.Header) {
	for _, v := range h.Values("Connection") {
		for _, name := range strings.Split(v, ",") {
			if name = strings.TrimSpace(name); name != "" {
				h.Del(name)
			}
		}
	}
	for _, name := range hopByHop {
		h.Del(name)
	}
}

func headerBytes(h http.Header) int {
	n := 0
	for k, vs := range h {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}

// traceContext returns the traceparent and tracestate of the gateway's span
// for this request: what the backend call carries on.
func traceContext(c echo.Context) (parent, state string) {
	ctx := c.Request().Context()
	return tracing.TraceParent(ctx), trace.SpanContextFromContext(ctx).TraceState().String()
}
