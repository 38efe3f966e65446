package inventory

import (
	"errors"
	"fmt"
)

// Error kinds. Every error a command returns wraps exactly one of them; test
// with errors.Is. Adapters map ErrInvalid to 400, ErrNotFound to 404 and
// ErrConflict to 409.
var (
	// ErrInvalid means the command's input breaks a rule whatever the state.
	ErrInvalid = errors.New("invalid")
	// ErrNotFound means the command needs an aggregate that does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means the input is fine but the current state forbids it.
	ErrConflict = errors.New("conflict")
)

// Error is a domain error: one of the kinds above and a detail fit to show
// to the client.
type Error struct {
	Kind   error
	Detail string
}

func (e *Error) Error() string { return e.Detail }

// Unwrap makes errors.Is(err, e.Kind) true.
func (e *Error) Unwrap() error { return e.Kind }

func errorf(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Detail: fmt.Sprintf(format, args...)}
}
