package es

import (
	"errors"
	"fmt"
)

// Sentinel errors; check them with errors.Is.
var (
	// ErrConcurrency means the stream was not at the expected version.
	// Nothing was written.
	ErrConcurrency = errors.New("wrong expected version")
	// ErrStreamNotFound means a read named a stream that has no events.
	ErrStreamNotFound = errors.New("stream not found")
	// ErrInvalid means the caller's input was rejected before anything was
	// written.
	ErrInvalid = errors.New("invalid input")
	// ErrUnknownEventType means the registry has no Go type for a type name.
	ErrUnknownEventType = errors.New("unknown event type")
	// ErrPermanent marks a handler's failure that retrying cannot cure: an
	// event it cannot decode, a request it can never carry out. A
	// subscriber sets such an event aside (parks it) instead of retrying it
	// and holding up every event behind it. See Permanent.
	ErrPermanent = errors.New("permanent failure")
)

// Permanent marks err as a failure that retrying the same event cannot
// cure: errors.Is(Permanent(err), ErrPermanent) holds, and err stays in the
// chain for errors.Is and errors.As. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string   { return e.err.Error() }
func (e *permanentError) Unwrap() []error { return []error{e.err, ErrPermanent} }

// ConcurrencyError is the typed form of ErrConcurrency: it says which stream
// conflicted, what the caller expected and what the store had.
type ConcurrencyError struct {
	Stream   string
	Expected ExpectedVersion
	// Actual is the stream's current version, or -1 when it has no events.
	Actual int64
}

func (e *ConcurrencyError) Error() string {
	actual := "no stream"
	if e.Actual >= 0 {
		actual = fmt.Sprintf("version %d", e.Actual)
	}
	return fmt.Sprintf("append to %s: expected %s, stream is at %s: %v", e.Stream, e.Expected, actual, ErrConcurrency)
}

// Is makes errors.Is(err, ErrConcurrency) true.
func (e *ConcurrencyError) Is(target error) bool { return target == ErrConcurrency }

// InvalidError is the typed form of ErrInvalid.
type InvalidError struct {
	Reason string
}

func (e *InvalidError) Error() string { return e.Reason }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

func invalidf(format string, args ...any) error {
	return &InvalidError{Reason: fmt.Sprintf(format, args...)}
}

// Invalidf returns an InvalidError; backends use it for input they reject.
func Invalidf(format string, args ...any) error { return invalidf(format, args...) }
