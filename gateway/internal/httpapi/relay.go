package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ordo-platform/ordo/gateway/internal/upstream"
	"github.com/ordo-platform/ordo/pkg/web"
)

// fetch calls a backend and sorts its answer: a 2xx comes back to decode;
// a backend problem (4xx, or 503 not-caught-up) is relayed to the client as
// a sentinel error; a failure becomes the client's 502/503/504.
func (h *handlers) fetch(c echo.Context, cl *upstream.Client, r upstream.Request) (*upstream.Response, error) {
	resp, err := cl.Do(c.Request().Context(), r)
	if err != nil {
		return nil, upstreamFailure(err, retryAfterOpen)
	}
	if resp.Status >= 300 {
		return nil, &relayed{resp: resp}
	}
	return resp, nil
}

// retryAfterOpen is the Retry-After sent while a breaker is open.
const retryAfterOpen = 5

// relayed is a backend's own client-facing answer (a 4xx problem or
// not-caught-up), passed on unchanged but for its instance.
type relayed struct{ resp *upstream.Response }

func (r *relayed) Error() string { return "backend answered " + http.StatusText(r.resp.Status) }

// proxy calls a backend and relays its answer whole (status and JSON body).
func (h *handlers) proxy(c echo.Context, cl *upstream.Client, r upstream.Request) error {
	resp, err := h.fetch(c, cl, r)
	if err != nil {
		return h.relayError(c, err)
	}
	return c.Blob(resp.Status, echo.MIMEApplicationJSON, resp.Body)
}

// relayError writes a relayed backend problem, or returns err for the
// error handler.
func (h *handlers) relayError(c echo.Context, err error) error {
	rel, ok := err.(*relayed)
	if !ok {
		return err
	}
	resp := rel.resp
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		c.Response().Header().Set("Retry-After", ra)
	}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get(echo.HeaderContentType))
	if ct != web.ContentTypeProblem {
		return &statusError{status: http.StatusBadGateway, typ: "upstream-error",
			detail: "a backend answered " + http.StatusText(resp.Status) + " without a problem body"}
	}
	var p web.Problem
	if json.Unmarshal(resp.Body, &p) != nil || p.Status != resp.Status {
		p = web.Problem{Type: web.ProblemTypeBase + "upstream-error", Title: http.StatusText(resp.Status), Status: resp.Status}
	}
	// The backend's instance is its internal path; the client knows the public one.
	p.Instance = c.Request().URL.Path
	return web.WriteProblem(c, p)
}

// passQuery copies the named query parameters the backend understands.
func passQuery(c echo.Context, names ...string) url.Values {
	q := url.Values{}
	for _, n := range names {
		if v := c.QueryParam(n); v != "" {
			q.Set(n, v)
		}
	}
	return q
}

// readJSON reads a write's body and checks it strictly against v (unknown
// fields, wrong types, trailing data: 400), returning the raw bytes to
// forward.
func readJSON(c echo.Context, v any) ([]byte, error) {
	if ct := c.Request().Header.Get(echo.HeaderContentType); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != echo.MIMEApplicationJSON && !strings.HasSuffix(mt, "+json")) {
			return nil, web.Errorf(web.Invalid, "Content-Type is %q; send application/json", ct)
		}
	}
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) || errors.Is(err, echo.ErrStatusRequestEntityTooLarge) {
			return nil, &web.Error{Kind: web.TooLarge, Detail: "request body is larger than this endpoint accepts", Err: err}
		}
		return nil, &web.Error{Kind: web.Invalid, Detail: "could not read the request body", Err: err}
	}
	if err := web.Decode(body, v); err != nil {
		return nil, err
	}
	return body, nil
}
