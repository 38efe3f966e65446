package launcher

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a console destination that tests can read while children
// write.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func testConsole() (*console, *syncBuffer) {
	out := &syncBuffer{}
	return newConsole(out, false, []string{"alpha", "beta"}), out
}

func TestWaitReadyWaitsForEveryChild(t *testing.T) {
	con, out := testConsole()
	a := fakeKid(t, con, "alpha", "serve", 0)
	b := fakeKid(t, con, "beta", "serve", 700*time.Millisecond)
	for _, c := range []*child{a, b} {
		if err := c.start(); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	if err := waitReady(t.Context(), []*child{a, b}, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < 600*time.Millisecond {
		t.Errorf("ready after %v, before beta could be", waited)
	}
	if !strings.Contains(out.String(), "beta  | listening on") {
		t.Errorf("output lacks beta's prefixed line:\n%s", out)
	}
}

func TestWaitReadyTimeoutNamesTheLaggardWithItsLog(t *testing.T) {
	con, _ := testConsole()
	a := fakeKid(t, con, "alpha", "serve", 0)
	b := fakeKid(t, con, "beta", "never-ready", 0)
	for _, c := range []*child{a, b} {
		if err := c.start(); err != nil {
			t.Fatal(err)
		}
	}
	err := waitReady(t.Context(), []*child{a, b}, 1500*time.Millisecond)
	if err == nil {
		t.Fatal("no error although beta never gets ready")
	}
	msg := err.Error()
	for _, want := range []string{"not ready within 1.5s: beta", "503 Service Unavailable", "fake child starting in mode never-ready"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "alpha") {
		t.Errorf("error names alpha, which was ready:\n%s", msg)
	}
}

func TestWaitReadyFailsAtOnceWhenAChildExits(t *testing.T) {
	con, _ := testConsole()
	c := fakeKid(t, con, "alpha", "crash", 0)
	if err := c.start(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err := waitReady(t.Context(), []*child{c}, 20*time.Second)
	if err == nil {
		t.Fatal("no error although the child crashed")
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("took %v: it waited for the timeout", time.Since(start))
	}
	for _, want := range []string{"alpha exited while starting (exit code 3)", "crash line 2", "panic: no newline at the end"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestStopEscalatesToSIGKILL(t *testing.T) {
	con, out := testConsole()
	c := fakeKid(t, con, "alpha", "stubborn", 0)
	if err := c.start(); err != nil {
		t.Fatal(err)
	}
	if err := waitReady(t.Context(), []*child{c}, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := c.stop(t.Context(), 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if c.running() {
		t.Fatal("still running after stop")
	}
	for _, want := range []string{"got SIGTERM, ignoring it", "sending SIGKILL"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestStopIsGracefulWhenTheChildListens(t *testing.T) {
	con, out := testConsole()
	c := fakeKid(t, con, "alpha", "serve", 0)
	if err := c.start(); err != nil {
		t.Fatal(err)
	}
	if err := waitReady(t.Context(), []*child{c}, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := c.stop(t.Context(), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := describeExit(c.exitErrNow()); got != "exit code 0" {
		t.Errorf("exit: %s, want exit code 0", got)
	}
	if strings.Contains(out.String(), "SIGKILL") {
		t.Errorf("escalated although the child exits on SIGTERM:\n%s", out)
	}
}

func TestOnlyUnaskedExitsAreReported(t *testing.T) {
	con, _ := testConsole()
	reported := make(chan string, 4)
	crash := fakeKid(t, con, "alpha", "crash", 0)
	killed := fakeKid(t, con, "beta", "serve", 0)
	for _, c := range []*child{crash, killed} {
		c.onExit = func(c *child, err error) { reported <- c.name + ": " + describeExit(err) }
		if err := c.start(); err != nil {
			t.Fatal(err)
		}
	}
	if err := waitReady(t.Context(), []*child{killed}, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := killed.kill(t.Context()); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-reported:
		if got != "alpha: exit code 3" {
			t.Errorf("reported %q, want the crash of alpha", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the crash was not reported")
	}
	<-crash.exited()
	select {
	case got := <-reported:
		t.Errorf("also reported %q, an exit the launcher asked for", got)
	case <-time.After(200 * time.Millisecond):
	}
}

func TestStartTwiceRefused(t *testing.T) {
	con, _ := testConsole()
	c := fakeKid(t, con, "alpha", "serve", 0)
	if err := c.start(); err != nil {
		t.Fatal(err)
	}
	if err := c.start(); err == nil {
		t.Error("second start of a running child succeeded")
	}
	if err := c.kill(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := c.start(); err != nil {
		t.Errorf("start after kill: %v", err)
	}
}
