// Package web is the HTTP edge every ordo service shares: one error type with
// kinds, one echo error handler that writes RFC 9457 problem+json, strict JSON
// binding, read-your-writes waits, health endpoints and a server that shuts
// down gracefully. It knows no service.
package web

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/ordo-platform/ordo/pkg/es"
)

// Kind classifies an error for the client. Each maps to one HTTP status.
type Kind uint8

// The kinds. Internal is the zero value, so an unclassified error is never
// shown to a client as anything but a plain 500.
const (
	Internal Kind = iota
	Invalid
	NotFound
	Conflict
	Unauthenticated
	Forbidden
	Unavailable
	TooLarge
	Unprocessable
)

var kinds = [...]struct {
	status int
	slug   string
}{
	Internal:        {http.StatusInternalServerError, "internal"},
	Invalid:         {http.StatusBadRequest, "invalid"},
	NotFound:        {http.StatusNotFound, "not-found"},
	Conflict:        {http.StatusConflict, "conflict"},
	Unauthenticated: {http.StatusUnauthorized, "unauthenticated"},
	Forbidden:       {http.StatusForbidden, "forbidden"},
	Unavailable:     {http.StatusServiceUnavailable, "unavailable"},
	TooLarge:        {http.StatusRequestEntityTooLarge, "too-large"},
	Unprocessable:   {http.StatusUnprocessableEntity, "unprocessable"},
}

// Status returns the HTTP status of k.
func (k Kind) Status() int { return kinds[k].status }

// Error is an error a client may see: its kind, a short stable problem name
// (the last part of the problem type URI) and a detail written for people.
type Error struct {
	Kind   Kind
	Type   string // problem name, e.g. "out-of-stock"; defaults to the kind's
	Detail string
	Err    error // cause, logged but never shown
	// RetryAfter, in seconds, is sent as Retry-After when positive.
	RetryAfter int
	// statusOverride keeps the status of an echo error with no kind of its own.
	statusOverride int
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Detail + ": " + e.Err.Error()
	}
	return e.Detail
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error of kind k with a formatted detail.
func Errorf(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Detail: fmt.Sprintf(format, args...)}
}

// As classifies err: an *Error anywhere in its chain wins; the event store's
// typed errors map to Invalid, NotFound and Conflict; anything else is
// Internal.
func As(err error) *Error {
	var we *Error
	switch {
	case errors.As(err, &we):
		return we
	case errors.Is(err, es.ErrInvalid):
		return &Error{Kind: Invalid, Detail: err.Error(), Err: err}
	case errors.Is(err, es.ErrStreamNotFound):
		return &Error{Kind: NotFound, Detail: "not found", Err: err}
	case errors.Is(err, es.ErrConcurrency):
		return &Error{Kind: Conflict, Type: "concurrent-update", Detail: "the resource was changed by another request; retry", Err: err}
	}
	return &Error{Kind: Internal, Detail: "internal error", Err: err}
}
