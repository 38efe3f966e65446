package platform

import (
	"context"
	"errors"
	"log/slog"
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
