package kurrent

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/ordo-platform/ordo/pkg/es"
)

// GroupOptions configure the persistent subscription groups Consume creates.
// They apply when a group is created; an existing group keeps its settings.
type GroupOptions struct {
	// MaxRetries is how many times an event whose handler failed is offered
	// again before it is parked (default 5).
	MaxRetries int32
	// BufferSize is how many events the server may have in flight to one
	// consumer (default 10).
	BufferSize uint32
	// MessageTimeout is how long the server waits for an ack before it
	// offers the event again (default 30s).
	MessageTimeout time.Duration
	// FromEnd makes a new group start with events written after it was
	// created. By default it starts at the beginning of $all, so a service
	// deployed late still sees the history.
	FromEnd bool
}

func (g GroupOptions) withDefaults() GroupOptions {
	if g.MaxRetries <= 0 {
		g.MaxRetries = 5
	}
	if g.BufferSize == 0 {
		g.BufferSize = 10
	}
	if g.MessageTimeout <= 0 {
		g.MessageTimeout = 30 * time.Second
	}
	return g
}

// Consume joins the persistent subscription group on $all named group,
// creating it if missing, and hands each event the filter matches to
// handle. It is how several replicas of one service share the work: the
// server spreads the group's events over every consumer connected to it.
//
// The group uses the Pinned strategy: the server hashes each event's stream
// id to one consumer, so one stream's events go to one replica, in order,
// while the set of replicas stays the same. Order is NOT guaranteed when a
// replica joins or leaves (streams move), when an event is retried (later
// events of its stream may pass it) or when an ack times out. Handlers must
// be idempotent and tolerate that; a handler that needs strict global order
// uses Subscribe with a checkpoint instead.
//
// A handler success acks the event. A failure nacks it for retry, and after
// GroupOptions.MaxRetries retries parks it: it is set aside in the group's
// parked-message stream until ReplayParked. System events and events the
// filter rejects are acked unseen. Consume resubscribes after drops and
// returns only when ctx ends (ctx's error) or the store closes (ErrClosed).
func (s *Store) Consume(ctx context.Context, group string, f es.Filter, handle es.Handler) error {
	if group == "" {
		return es.Invalidf("kurrent: consume: empty group name")
	}
	caller := ctx
	ctx, _, end, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer end()
	wait := s.opts.MinBackoff
	for {
		handled, err := s.consumeOnce(ctx, group, f, handle)
		if ctx.Err() != nil {
			return s.stopped(caller)
		}
		if handled {
			wait = s.opts.MinBackoff
		}
		s.log.Warn("kurrent: persistent subscription dropped; reconnecting", "group", group, "in", wait.String(), "err", err)
		if sleep(ctx, wait) != nil {
			return s.stopped(caller)
		}
		wait = min(2*wait, s.opts.MaxBackoff)
	}
}

// consumeOnce connects once and settles events until the connection drops.
func (s *Store) consumeOnce(ctx context.Context, group string, f es.Filter, handle es.Handler) (handled bool, err error) {
	cli := s.current()
	if err := s.ensureGroup(ctx, cli, group, f); err != nil {
		s.recover(cli, err)
		return false, err
	}
	opts := esdb.SubscribeToPersistentSubscriptionOptions{BufferSize: s.opts.Group.BufferSize}
	sub, err := cli.SubscribeToPersistentSubscriptionToAll(ctx, group, opts)
	if err != nil {
		s.recover(cli, err)
		return false, err
	}
	defer sub.Close()
	for {
		msg := sub.Recv()
		if msg.SubscriptionDropped != nil {
			return handled, errors.Join(errors.New("dropped"), msg.SubscriptionDropped.Error)
		}
		if msg.EventAppeared == nil || msg.EventAppeared.Event == nil {
			continue
		}
		if err := s.settle(ctx, sub, group, f, msg.EventAppeared, handle); err != nil {
			return handled, err
		}
		handled = true
	}
}

// settle runs handle on one event and tells the server the outcome.
func (s *Store) settle(ctx context.Context, sub *esdb.PersistentSubscription, group string, f es.Filter, ea *esdb.EventAppeared, handle es.Handler) error {
	re := ea.Event
	rec := re.OriginalEvent()
	if rec == nil {
		return sub.Ack(re)
	}
	e := toEvent(rec)
	if isSystem(e) || !f.Matches(e) {
		return sub.Ack(re)
	}
	herr := handle(ctx, e)
	switch {
	case herr == nil:
		return sub.Ack(re)
	case ctx.Err() != nil:
		// Shutting down: leave it unacked; the server offers it again.
		return ctx.Err()
	case ea.RetryCount >= int(s.opts.Group.MaxRetries):
		s.log.Warn("kurrent: parking event after retries", "group", group, "stream", e.StreamID,
			"version", e.Version, "type", e.Type, "retries", ea.RetryCount, "err", herr)
		return sub.Nack(reason(herr), esdb.NackActionPark, re)
	}
	return sub.Nack(reason(herr), esdb.NackActionRetry, re)
}

// millis is d in whole milliseconds, for the server's int32 settings.
func millis(d time.Duration) int32 {
	ms := d.Milliseconds()
	switch {
	case ms > math.MaxInt32:
		return math.MaxInt32
	case ms < 0:
		return 0
	}
	return int32(ms)
}

// reason trims a handler error to a size the server keeps with the event.
func reason(err error) string {
	const limit = 500
	r := err.Error()
	if len(r) > limit {
		r = r[:limit]
	}
	return r
}

// ensureGroup creates the group unless it exists.
func (s *Store) ensureGroup(ctx context.Context, cli *esdb.Client, group string, f es.Filter) error {
	settings := esdb.SubscriptionSettingsDefault()
	settings.ResolveLinkTos = false // $all already holds the events; links would duplicate them
	settings.ConsumerStrategyName = esdb.ConsumerStrategyPinned
	settings.MaxRetryCount = s.opts.Group.MaxRetries
	settings.MessageTimeout = millis(s.opts.Group.MessageTimeout)
	opts := esdb.PersistentAllSubscriptionOptions{Settings: &settings, StartFrom: esdb.Start{}, Filter: serverFilter(f)}
	if s.opts.Group.FromEnd {
		opts.StartFrom = esdb.End{}
	}
	err := cli.CreatePersistentSubscriptionToAll(ctx, group, opts)
	if err == nil || code(err) == esdb.ErrorCodeResourceAlreadyExists {
		return nil
	}
	return fmt.Errorf("kurrent: create group %s: %w", group, err)
}

// ParkedMessages returns how many events the group has parked.
func (s *Store) ParkedMessages(ctx context.Context, group string) (int64, error) {
	ctx, cli, end, err := s.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer end()
	info, err := cli.GetPersistentSubscriptionInfoToAll(ctx, group, esdb.GetPersistentSubscriptionOptions{})
	if err != nil {
		s.recover(cli, err)
		return 0, fmt.Errorf("kurrent: group %s: %w", group, err)
	}
	if info.Stats == nil {
		return 0, nil
	}
	return info.Stats.ParkedMessagesCount, nil
}

// ReplayParked asks the server to offer the group's parked events to its
// consumers again, after the cause of their failure has been fixed.
func (s *Store) ReplayParked(ctx context.Context, group string) error {
	ctx, cli, end, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer end()
	if err := cli.ReplayParkedMessagesToAll(ctx, group, esdb.ReplayParkedMessagesOptions{}); err != nil {
		s.recover(cli, err)
		return fmt.Errorf("kurrent: replay parked of group %s: %w", group, err)
	}
	return nil
}

// DeleteGroup removes a persistent subscription group (tests, and groups of
// retired services).
func (s *Store) DeleteGroup(ctx context.Context, group string) error {
	ctx, cli, end, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer end()
	if err := cli.DeletePersistentSubscriptionToAll(ctx, group, esdb.DeletePersistentSubscriptionOptions{}); err != nil {
		s.recover(cli, err)
		return fmt.Errorf("kurrent: delete group %s: %w", group, err)
	}
	return nil
}
