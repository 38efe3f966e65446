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
)

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
