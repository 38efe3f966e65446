package web

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
)

// ProblemTypeBase prefixes every problem type URI ordo writes. The API docs
// list the names that follow it.
const ProblemTypeBase = "https://ordo.dev/problems/"

// Problem is an RFC 9457 problem details body.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
}

// ContentTypeProblem is the media type of a Problem.
const ContentTypeProblem = "application/problem+json"

// ErrorHandler returns echo's HTTPErrorHandler for every ordo server: it
// writes problem+json, logs internal errors with their cause and never
// leaks the cause of an internal error to the client.
func ErrorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		we := classify(err)
		if we.Kind == Internal {
			log.ErrorContext(c.Request().Context(), "request failed", "method", c.Request().Method, "path", c.Path(), "err", err)
		}
		if we.RetryAfter > 0 {
			c.Response().Header().Set("Retry-After", strconv.Itoa(we.RetryAfter))
		}
		p := problemOf(we)
		p.Instance = c.Request().URL.Path
		_ = WriteProblem(c, p) // the client went away; nothing left to do
	}
}

// WriteProblem writes p with the problem+json media type.
func WriteProblem(c echo.Context, p Problem) error {
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	if c.Request().Method == http.MethodHead {
		return c.NoContent(p.Status)
	}
	return c.Blob(p.Status, ContentTypeProblem, body)
}

func classify(err error) *Error {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		return fromEcho(he)
	}
	return As(err)
}

// fromEcho maps echo's own errors (unknown route, wrong method, body limit).
func fromEcho(he *echo.HTTPError) *Error {
	detail := http.StatusText(he.Code)
	if m, ok := he.Message.(string); ok && m != "" {
		detail = m
	}
	switch he.Code {
	case http.StatusNotFound:
		return &Error{Kind: NotFound, Detail: "no such resource"}
	case http.StatusRequestEntityTooLarge:
		return &Error{Kind: TooLarge, Detail: "request body is larger than this endpoint accepts"}
	case http.StatusBadRequest:
		return &Error{Kind: Invalid, Detail: detail, Err: he.Internal}
	case http.StatusUnauthorized:
		return &Error{Kind: Unauthenticated, Detail: detail}
	case http.StatusForbidden:
		return &Error{Kind: Forbidden, Detail: detail}
	case http.StatusServiceUnavailable:
		return &Error{Kind: Unavailable, Detail: detail}
	}
	if he.Code >= 500 {
		return &Error{Kind: Internal, Detail: "internal error", Err: he}
	}
	// Other 4xx echo raises (405, 415, …) keep their status.
	return &Error{Kind: Invalid, Type: slugOf(he.Code), Detail: detail, statusOverride: he.Code}
}

func slugOf(code int) string { return "http-" + strconv.Itoa(code) }

func problemOf(e *Error) Problem {
	status := e.Kind.Status()
	if e.statusOverride != 0 {
		status = e.statusOverride
	}
	name := e.Type
	if name == "" {
		name = kinds[e.Kind].slug
	}
	detail := e.Detail
	if e.Kind == Internal {
		detail = "internal error"
	}
	return Problem{Type: ProblemTypeBase + name, Title: http.StatusText(status), Status: status, Detail: detail}
}
