package platform

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ordo-platform/ordo/pkg/web"
)

// Supervise runs run in the background, starting it again after a failure
// (the store or Redis briefly gone) with a pause doubling from 100 ms to
// 5 s; a run that lasted over a minute before failing is a new failure and
// waits 100 ms again. what names it in the log ("saga"); the returned check,
// named check, fails while it is not running. stop ends it and waits.
func Supervise(check, what string, run func(context.Context) error, log *slog.Logger) (_ web.Check, stop func()) {
	return supervise(clock{now: time.Now, after: time.After}, check, what, run, log)
}

// clock is how Supervise tells how long a run lasted and waits between
// runs; tests give it one of their own.
type clock struct {
	now   func() time.Time
	after func(time.Duration) <-chan time.Time
}

func supervise(clk clock, check, what string, run func(context.Context) error, log *slog.Logger) (_ web.Check, stop func()) {
	var running atomic.Bool
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		backoff := 100 * time.Millisecond
		for ctx.Err() == nil {
			running.Store(true)
			started := clk.now()
			err := run(ctx)
			running.Store(false)
			if ctx.Err() != nil {
				return
			}
			if clk.now().Sub(started) > time.Minute {
				backoff = 100 * time.Millisecond
			}
			log.Error(what+" stopped; restarting", "err", err, "in", backoff)
			select {
			case <-ctx.Done():
			case <-clk.after(backoff):
			}
			backoff = min(2*backoff, 5*time.Second)
		}
	})
	c := web.Check{Name: check, Run: func(context.Context) error {
		if !running.Load() {
			return errors.New(what + " is not running; restarting after an error")
		}
		return nil
	}}
	return c, func() { cancel(); wg.Wait() }
}
