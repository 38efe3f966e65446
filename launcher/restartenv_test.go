package launcher

import (
	"strings"
	"testing"
	"time"
)

func TestRestartWithChangesTheEnvironment(t *testing.T) {
	p := fakePlatform(t, false, map[string]string{"alpha": "serve", "beta": "serve"})
	if err := waitReady(t.Context(), p.kids, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := p.RestartWith(t.Context(), "alpha", map[string]string{"LAUNCHER_FAKE": "stubborn"}); err != nil {
		t.Fatal(err)
	}
	alpha, _ := p.child("alpha")
	if tail := alpha.log.Tail(); !strings.Contains(tail, "starting in mode stubborn") {
		t.Fatalf("alpha did not restart with the new variable; its log:\n%s", tail)
	}
	if err := p.Restart(t.Context(), "alpha"); err != nil {
		t.Fatal(err)
	}
	if tail := alpha.log.Tail(); strings.Count(tail, "starting in mode stubborn") != 2 {
		t.Fatalf("a later Restart lost the changed variable; alpha's log:\n%s", tail)
	}
}
