package launcher

import (
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fakePlatform is a Platform over fake children, without building or
// infrastructure.
func fakePlatform(t *testing.T, restart bool, modes map[string]string) *Platform {
	t.Helper()
	con, _ := testConsole()
	p := &Platform{cfg: Config{Restart: restart, StopTimeout: 5 * time.Second, ReadyTimeout: 20 * time.Second},
		fails: make(chan Exit, 4), con: con, Skipped: map[string]string{"gateway": "not built yet"}}
	for _, name := range []string{"alpha", "beta"} {
		c := fakeKid(t, con, name, modes[name], 0)
		c.onExit = p.exited
		p.kids = append(p.kids, c)
		if err := c.start(); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _ = p.Stop(t.Context()) })
	return p
}

func TestFailedReportsACrash(t *testing.T) {
	p := fakePlatform(t, false, map[string]string{"alpha": "serve", "beta": "crash"})
	select {
	case ex := <-p.Failed():
		if ex.Name != "beta" || ex.How != "exit code 3" || !strings.Contains(ex.Tail, "crash line 2") {
			t.Errorf("exit %+v", ex)
		}
		if !strings.Contains(ex.Error(), "beta exited unexpectedly (exit code 3)") {
			t.Errorf("message %q", ex.Error())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("crash not reported")
	}
}

func TestKillAndRestartOneChild(t *testing.T) {
	p := fakePlatform(t, false, map[string]string{"alpha": "serve", "beta": "serve"})
	if err := waitReady(t.Context(), p.kids, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := p.Kill(t.Context(), "alpha"); err != nil {
		t.Fatal(err)
	}
	if p.Running("alpha") || !p.Running("beta") {
		t.Fatalf("after Kill(alpha): alpha running %v, beta running %v", p.Running("alpha"), p.Running("beta"))
	}
	if err := p.Restart(t.Context(), "alpha"); err != nil {
		t.Fatal(err)
	}
	if !p.Running("alpha") {
		t.Fatal("alpha not running after Restart")
	}
	select {
	case ex := <-p.Failed():
		t.Errorf("an asked-for kill was reported: %v", ex)
	default:
	}
	if err := p.Kill(t.Context(), "gateway"); err == nil || !strings.Contains(err.Error(), "not built yet") {
		t.Errorf("Kill(gateway) = %v, want the reason it was skipped", err)
	}
}

func TestRestartPolicyBringsACrashedChildBack(t *testing.T) {
	p := fakePlatform(t, true, map[string]string{"alpha": "serve", "beta": "serve"})
	if err := waitReady(t.Context(), p.kids, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	beta := p.kids[1]
	beta.mu.Lock()
	pid := beta.cmd.Process.Pid
	beta.mu.Unlock()
	signalGroup(beta.cmd, 9) // a crash the launcher did not ask for
	deadline := time.Now().Add(15 * time.Second)
	for {
		beta.mu.Lock()
		newPID := beta.cmd.Process.Pid
		beta.mu.Unlock()
		if newPID != pid && beta.running() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("beta was not restarted")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := waitReady(t.Context(), []*child{beta}, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	select {
	case ex := <-p.Failed():
		t.Errorf("crash reported on Failed although restarting: %v", ex)
	default:
	}
}

func TestStopEndsEveryChild(t *testing.T) {
	p := fakePlatform(t, false, map[string]string{"alpha": "serve", "beta": "stubborn"})
	p.cfg.StopTimeout = 300 * time.Millisecond
	if err := waitReady(t.Context(), p.kids, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := p.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, c := range p.kids {
		if c.running() {
			t.Errorf("%s still running", c.name)
		}
	}
	select {
	case ex := <-p.Failed():
		t.Errorf("stop reported as a failure: %v", ex)
	default:
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func itoa(n int) string { return strconv.Itoa(n) }
