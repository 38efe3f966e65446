package kurrent

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/ordo-platform/ordo/pkg/es"
)

// Subscribe runs a catch-up subscription to $all after from (exclusive):
// stored events first, then live ones, in $all order, to handle. The server
// filters by category or type where it can; the exact filter, the skip of
// system events and the skip of anything at or before the last event seen
// run here.
//
// When the server drops the subscription (restart, leader change, a slow
// consumer) it resubscribes after the last event received, waiting
// MinBackoff at first and twice as long after each attempt that brings
// nothing, up to MaxBackoff. It returns ctx's error when ctx ends,
// ErrClosed when the store closes, and handle's error, wrapped, when handle
// fails.
func (s *Store) Subscribe(ctx context.Context, from es.Position, f es.Filter, handle es.Handler) error {
	caller := ctx
	ctx, _, end, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer end()
	cur := newCursor(from)
	wait := s.opts.MinBackoff
	for {
		before := cur
		err := s.subscribeOnce(ctx, &cur, f, handle)
		var he *handlerError
		if errors.As(err, &he) {
			return he.wrapped()
		}
		if ctx.Err() != nil {
			return s.stopped(caller)
		}
		if cur != before {
			wait = s.opts.MinBackoff
		}
		s.log.Warn("kurrent: subscription dropped; resubscribing", "after", cur.pos.String(), "in", wait.String(), "err", err)
		if sleep(ctx, wait) != nil {
			return s.stopped(caller)
		}
		wait = min(2*wait, s.opts.MaxBackoff)
	}
}

// subscribeOnce runs one server subscription until it drops or handle fails.
func (s *Store) subscribeOnce(ctx context.Context, cur *cursor, f es.Filter, handle es.Handler) error {
	cli := s.current()
	sub, err := cli.SubscribeToAll(ctx, esdb.SubscribeToAllOptions{From: cur.allPosition(), Filter: serverFilter(f)})
	if err != nil {
		s.recover(cli, err)
		return err
	}
	defer sub.Close()
	for {
		msg := sub.Recv()
		switch {
		case msg.SubscriptionDropped != nil:
			if msg.SubscriptionDropped.Error == nil {
				return errors.New("dropped by the server")
			}
			return msg.SubscriptionDropped.Error
		case msg.EventAppeared != nil && msg.EventAppeared.Event != nil:
			if err := deliver(ctx, cur, f, toEvent(msg.EventAppeared.Event), handle); err != nil {
				return err
			}
		}
		// Checkpoints are not used as resume points on purpose: the
		// position of the last event received is exact, a checkpoint's
		// meaning (read up to, or next to read) is not pinned down.
	}
}

// deliver hands e to handle unless it was seen already, is a system event
// or fails the filter.
func deliver(ctx context.Context, cur *cursor, f es.Filter, e es.Event, handle es.Handler) error {
	if !cur.take(e.Position) || isSystem(e) || !f.Matches(e) {
		return nil
	}
	if err := handle(ctx, e); err != nil {
		return &handlerError{err: err, event: e}
	}
	return nil
}

// handlerError marks a failure of the caller's handler, which ends the
// subscription, apart from a drop, which does not.
type handlerError struct {
	err   error
	event es.Event
}

func (h *handlerError) Error() string { return h.err.Error() }

func (h *handlerError) wrapped() error {
	return fmt.Errorf("kurrent: subscription handler at %s (%s %s v%d): %w",
		h.event.Position, h.event.Type, h.event.StreamID, h.event.Version, h.err)
}

// serverFilter is the coarse filter the server applies before sending. It is
// a regular expression rather than a prefix list because a prefix cannot say
// "the category is exactly order" (stream order-1 or order, not orders-1).
// The server filters on the stream id or on the event type, not both: with
// categories it filters streams and the types are checked here; without
// any filter it still keeps system events off the wire.
func serverFilter(f es.Filter) *esdb.SubscriptionFilter {
	switch {
	case len(f.Categories) > 0:
		return &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Regex: "^(?:" + alternatives(f.Categories) + ")(?:-|$)"}
	case len(f.Types) > 0:
		return &esdb.SubscriptionFilter{Type: esdb.EventFilterType, Regex: "^(?:" + alternatives(f.Types) + ")$"}
	}
	return esdb.ExcludeSystemEventsFilter()
}

// alternatives joins literal strings into one regular expression choice.
// QuoteMeta's escapes mean the same in .NET's regular expressions, which
// the server uses.
func alternatives(values []string) string {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = regexp.QuoteMeta(v)
	}
	return strings.Join(quoted, "|")
}
