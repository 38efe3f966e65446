package app

import (
	"strings"
	"testing"
	"time"

	"github.com/ordo-platform/ordo/services/notify"
)

func TestBackoffDoublesUpToMax(t *testing.T) {
	b := newBackoff(100*time.Millisecond, time.Second)
	now := time.Unix(0, 0)
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, w := range want {
		b.failed("n", now)
		if got := b.next["n"].Sub(now); got != w*time.Millisecond {
			t.Errorf("after failure %d: wait %v, want %v", i+1, got, w*time.Millisecond)
		}
	}
	if b.ready("n", now) || !b.ready("n", now.Add(time.Second)) || !b.ready("other", now) {
		t.Error("ready disagrees with the schedule")
	}
	b.done("n")
	if !b.ready("n", now) {
		t.Error("done did not reset")
	}
}

func TestMessageIDIsStablePerNotification(t *testing.T) {
	a, b := MessageID("o1:order_confirmed", "x.test"), MessageID("o1:order_confirmed", "x.test")
	if a != b || a == MessageID("o1:order_cancelled", "x.test") || !strings.HasSuffix(a, "@x.test") {
		t.Errorf("message ids %q %q", a, b)
	}
}

func TestMessageKeepsHeadersOnOneLine(t *testing.T) {
	n := notify.Notification{ID: "o\r\nBcc: evil@x.test:order_confirmed", OrderID: "o\r\nBcc: evil@x.test", Kind: notify.KindOrderConfirmed, CustomerID: "c", To: "c@x.test"}
	raw := string(compose(n, "s <s@x.test>", "x.test").Bytes(time.Unix(0, 0)))
	head, _, _ := strings.Cut(raw, "\r\n\r\n")
	for _, line := range strings.Split(head, "\r\n") {
		if strings.HasPrefix(line, "Bcc:") {
			t.Fatalf("header injected:\n%s", head)
		}
	}
	if !strings.Contains(head, "Message-ID: <"+MessageID(n.ID, "x.test")+">") {
		t.Errorf("no Message-ID header:\n%s", head)
	}
}
