package launcher

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLineWriterPrefixesWholeLines(t *testing.T) {
	out := &syncBuffer{}
	con := newConsole(out, false, []string{"order", "provider-sim"})
	w := newLineWriter(con, con.prefix("order", 0))
	for _, chunk := range []string{"first li", "ne\nsecond\r\nthi", "rd"} {
		if _, err := w.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	if got := out.String(); got != "order        | first line\norder        | second\n" {
		t.Errorf("before flush:\n%q", got)
	}
	w.Flush()
	want := "order        | first line\norder        | second\norder        | third\n"
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
}

func TestPrefixColourOnlyWhenAsked(t *testing.T) {
	plain := newConsole(nil, false, []string{"gateway"})
	if got := plain.prefix("gateway", 0); got != "gateway |" {
		t.Errorf("plain prefix %q", got)
	}
	coloured := newConsole(nil, true, []string{"gateway"})
	if got := coloured.prefix("gateway", 1); got != "\x1b[33mgateway |\x1b[0m" {
		t.Errorf("coloured prefix %q", got)
	}
}

func TestTailKeepsTheLastLines(t *testing.T) {
	con := newConsole(&syncBuffer{}, false, []string{"x"})
	w := newLineWriter(con, "x |")
	if got := w.Tail(); got != "  (no output)" {
		t.Errorf("empty tail %q", got)
	}
	for i := range tailLines + 5 {
		_, _ = fmt.Fprintf(w, "line %d\n", i)
	}
	got := strings.Split(w.Tail(), "\n")
	if len(got) != tailLines || got[0] != "  line 5" || got[tailLines-1] != fmt.Sprintf("  line %d", tailLines+4) {
		t.Errorf("tail is %d lines from %q to %q", len(got), got[0], got[len(got)-1])
	}
}

// Lines of children that write at the same time never mix.
func TestConcurrentChildrenDoNotInterleave(t *testing.T) {
	out := &syncBuffer{}
	con := newConsole(out, false, []string{"a", "b"})
	var wg sync.WaitGroup
	for _, name := range []string{"a", "b"} {
		w := newLineWriter(con, con.prefix(name, 0))
		wg.Go(func() {
			for range 200 {
				_, _ = w.Write([]byte(strings.Repeat(name, 50) + "\n"))
			}
		})
	}
	wg.Wait()
	for _, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		name := line[:1]
		if line != name+" | "+strings.Repeat(name, 50) {
			t.Fatalf("mixed line %q", line)
		}
	}
}

func TestIsTerminalHonoursNoColor(t *testing.T) {
	env := map[string]string{"NO_COLOR": "1"}
	if IsTerminal(nil, func(k string) string { return env[k] }) {
		t.Error("colour although NO_COLOR is set")
	}
}
