package es

import (
	"fmt"
	"strconv"
	"strings"
)

// Position is an event's place in the store's global order. Positions compare
// lexicographically: first Commit, then Prepare. The zero Position is before
// every event.
//
// In the PostgreSQL backend Commit is the id of the transaction that wrote the
// event and Prepare its sequence number: ordering by both is what lets a
// subscriber never skip an event committed out of order. In KurrentDB they are
// the server's commit and prepare positions.
type Position struct {
	Commit  uint64
	Prepare uint64
}

// Start is the position before the first event.
var Start = Position{}

// Compare returns -1, 0 or +1 as p is before, equal to or after q.
func (p Position) Compare(q Position) int {
	switch {
	case p.Commit < q.Commit:
		return -1
	case p.Commit > q.Commit:
		return 1
	case p.Prepare < q.Prepare:
		return -1
	case p.Prepare > q.Prepare:
		return 1
	}
	return 0
}

// Less reports whether p is before q.
func (p Position) Less(q Position) bool { return p.Compare(q) < 0 }

// IsZero reports whether p is Start.
func (p Position) IsZero() bool { return p == Start }

// String formats p as "commit.prepare", the form ParsePosition reads and the
// HTTP APIs return.
func (p Position) String() string {
	return strconv.FormatUint(p.Commit, 10) + "." + strconv.FormatUint(p.Prepare, 10)
}

// ParsePosition reads the form Position.String writes.
func ParsePosition(s string) (Position, error) {
	c, pr, ok := strings.Cut(s, ".")
	if !ok {
		return Start, invalidf("position %q: want commit.prepare, two non-negative integers", s)
	}
	commit, err1 := strconv.ParseUint(c, 10, 64)
	prepare, err2 := strconv.ParseUint(pr, 10, 64)
	if err1 != nil || err2 != nil {
		return Start, invalidf("position %q: want commit.prepare, two non-negative integers", s)
	}
	return Position{Commit: commit, Prepare: prepare}, nil
}

// MarshalText implements encoding.TextMarshaler.
func (p Position) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (p *Position) UnmarshalText(b []byte) error {
	v, err := ParsePosition(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// ExpectedVersion is what an append expects of its stream. The zero value is
// not a valid expectation: say Any, NoStream, StreamExists or Exact(v).
type ExpectedVersion struct {
	kind    expectKind
	version int64
}

type expectKind uint8

const (
	expectInvalid expectKind = iota
	expectAny
	expectNoStream
	expectStreamExists
	expectExact
)

// The expected-version kinds.
var (
	// Any appends whatever the stream's state.
	Any = ExpectedVersion{kind: expectAny}
	// NoStream appends only if the stream has no events yet.
	NoStream = ExpectedVersion{kind: expectNoStream}
	// StreamExists appends only if the stream has at least one event.
	StreamExists = ExpectedVersion{kind: expectStreamExists}
)

// Exact appends only if the stream's last event has version v.
func Exact(v int64) ExpectedVersion { return ExpectedVersion{kind: expectExact, version: v} }

// IsAny, IsNoStream, IsStreamExists and IsExact report the kind.
func (e ExpectedVersion) IsAny() bool          { return e.kind == expectAny }
func (e ExpectedVersion) IsNoStream() bool     { return e.kind == expectNoStream }
func (e ExpectedVersion) IsStreamExists() bool { return e.kind == expectStreamExists }
func (e ExpectedVersion) IsExact() bool        { return e.kind == expectExact }

// Version returns the version of an Exact expectation, and -1 otherwise.
func (e ExpectedVersion) Version() int64 {
	if e.kind != expectExact {
		return -1
	}
	return e.version
}

// Validate returns an InvalidError for the zero value or a negative Exact.
func (e ExpectedVersion) Validate() error {
	switch {
	case e.kind == expectInvalid || e.kind > expectExact:
		return invalidf("unknown expected version: use Any, NoStream, StreamExists or Exact(v)")
	case e.kind == expectExact && e.version < 0:
		return invalidf("expected version %d: Exact needs a version >= 0 (use NoStream for an empty stream)", e.version)
	}
	return nil
}

func (e ExpectedVersion) String() string {
	switch e.kind {
	case expectAny:
		return "any"
	case expectNoStream:
		return "no stream"
	case expectStreamExists:
		return "stream exists"
	case expectExact:
		return fmt.Sprintf("version %d", e.version)
	}
	return "invalid"
}
