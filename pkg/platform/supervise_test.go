package platform

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A failing run is started again; the check passes while it runs; stop
// ends it and waits.
func TestSuperviseRestartsAndStops(t *testing.T) {
	var starts atomic.Int32
	running := make(chan struct{})
	ended := make(chan struct{})
	run := func(ctx context.Context) error {
		if starts.Add(1) < 3 {
			return errors.New("store gone")
		}
		close(running)
		<-ctx.Done()
		close(ended)
		return ctx.Err()
	}
	check, stop := Supervise("task", "task", run, slog.New(slog.DiscardHandler))
	select {
	case <-running:
	case <-time.After(30 * time.Second):
		t.Fatalf("not running again after failures (%d starts)", starts.Load())
	}
	if err := check.Run(context.Background()); err != nil {
		t.Errorf("check while running: %v", err)
	}
	stop()
	select {
	case <-ended:
	default:
		t.Fatal("stop returned before run ended")
	}
	if err := check.Run(context.Background()); err == nil {
		t.Error("check passes after stop")
	}
	if n := starts.Load(); n != 3 {
		t.Errorf("%d starts, want 3", n)
	}
}

// The pause after a failure doubles from 100 ms up to 5 s, and starts
// again at 100 ms after a run that lasted over a minute.
func TestSuperviseBackoff(t *testing.T) {
	var mu sync.Mutex
	now := time.Unix(0, 0)
	var pauses []time.Duration
	clk := clock{
		now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now },
		after: func(d time.Duration) <-chan time.Time {
			mu.Lock()
			pauses = append(pauses, d)
			mu.Unlock()
			c := make(chan time.Time, 1)
			c <- time.Time{}
			return c
		},
	}
	// How long each run lasts before it fails; the run after the last
	// keeps running until stopped.
	lasts := []time.Duration{0, 0, 0, 0, 0, 0, 0, 61 * time.Second, 0}
	runs := 0
	settled := make(chan struct{})
	run := func(ctx context.Context) error {
		if runs == len(lasts) {
			close(settled)
			<-ctx.Done()
			return ctx.Err()
		}
		mu.Lock()
		now = now.Add(lasts[runs])
		mu.Unlock()
		runs++
		return errors.New("store gone")
	}
	_, stop := supervise(clk, "task", "task", run, slog.New(slog.DiscardHandler))
	defer stop()
	select {
	case <-settled:
	case <-time.After(30 * time.Second):
		t.Fatal("the runs did not all happen")
	}
	ms := time.Millisecond
	want := []time.Duration{100 * ms, 200 * ms, 400 * ms, 800 * ms, 1600 * ms, 3200 * ms, 5000 * ms, 100 * ms, 200 * ms}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(pauses, want) {
		t.Errorf("pauses %v, want %v", pauses, want)
	}
}
