package audit

import (
	"context"
	"fmt"
	"time"

	"github.com/ordo-platform/ordo/pkg/es"
)

// Quiet waits for the store to be quiet: its head unmoved for period. It
// keeps trying for up to within (at least one period); when no quiet
// period came it returns a CheckQuiet violation naming how far the head
// moved, because invariants are only promised once the system is quiet.
// It polls the head every poll (default period/10, at most 1s).
func Quiet(ctx context.Context, store es.Store, period, within, poll time.Duration) (*Violation, error) {
	if poll <= 0 {
		poll = min(max(period/10, 10*time.Millisecond), time.Second)
	}
	head, err := store.Head(ctx)
	if err != nil {
		return nil, fmt.Errorf("store head: %w", err)
	}
	first, still := head, time.Now()
	// The deadline counts from the first look, so a slow first look cannot
	// make an idle store miss its quiet period.
	deadline := still.Add(max(within, period))
	for {
		if time.Since(still) >= period {
			return nil, nil
		}
		if time.Now().After(deadline) {
			return &Violation{Check: CheckQuiet, Subject: "store", Detail: fmt.Sprintf(
				"not quiet: the head moved from %s to %s within %s; no %s without a new event", first, head, max(within, period), period)}, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(poll):
		}
		now, err := store.Head(ctx)
		if err != nil {
			return nil, fmt.Errorf("store head: %w", err)
		}
		if now != head {
			head, still = now, time.Now()
		}
	}
}
