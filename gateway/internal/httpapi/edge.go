package httpapi

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"regexp"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ordo-platform/ordo/pkg/web"
)

// hopByHop are the RFC 9110 connection-specific headers; a proxy never
// forwards them.
var hopByHop = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

var (
	traceParentRE = regexp.MustCompile(`^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$`)
	requestIDRE   = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)
)

const ctxTraceParent = "gateway.traceparent"

// edge runs before routing: it drops any identity header a client sent
// (only the gateway signs identity) and the headers named in Connection,
// enforces the header size limit (431), keeps a client's X-Request-Id only
// when it is a sane token, and starts a W3C trace when none came in.
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
			tp := h.Get("traceparent")
			if traceParentRE.MatchString(tp) && !strings.HasPrefix(tp, "00-00000000000000000000000000000000") {
				tp = childSpan(tp)
			} else {
				tp = newTraceParent()
				h.Del("tracestate")
			}
			c.Set(ctxTraceParent, tp)
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

// newTraceParent starts a sampled trace with random ids.
func newTraceParent() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b) // crypto/rand does not fail on supported platforms
	return "00-" + hex.EncodeToString(b[:16]) + "-" + hex.EncodeToString(b[16:]) + "-01"
}

// childSpan keeps the caller's trace id and flags and names the gateway's
// own span as the parent of the backend call.
func childSpan(tp string) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return tp[:36] + hex.EncodeToString(b) + tp[52:]
}

func traceParent(c echo.Context) string {
	tp, _ := c.Get(ctxTraceParent).(string)
	return tp
}
