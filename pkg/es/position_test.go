package es_test

import (
	"errors"
	"testing"

	"github.com/ordo-platform/ordo/pkg/es"
)

func TestPositionOrder(t *testing.T) {
	tests := []struct {
		p, q es.Position
		want int
	}{
		{es.Position{1, 5}, es.Position{1, 5}, 0},
		{es.Position{1, 9}, es.Position{2, 1}, -1}, // commit decides first
		{es.Position{3, 1}, es.Position{2, 9}, 1},
		{es.Position{2, 1}, es.Position{2, 2}, -1},
		{es.Start, es.Position{0, 1}, -1},
	}
	for _, tt := range tests {
		if got := tt.p.Compare(tt.q); got != tt.want {
			t.Errorf("%s.Compare(%s) = %d, want %d", tt.p, tt.q, got, tt.want)
		}
		if got := tt.p.Less(tt.q); got != (tt.want < 0) {
			t.Errorf("%s.Less(%s) = %v", tt.p, tt.q, got)
		}
	}
}

func TestParsePosition(t *testing.T) {
	p := es.Position{Commit: 18446744073709551615, Prepare: 42}
	got, err := es.ParsePosition(p.String())
	if err != nil || got != p {
		t.Fatalf("round trip of %s: %v, %v", p, got, err)
	}
	for _, bad := range []string{"", "12", "1.", ".2", "a.b", "-1.2", "1.2.3", "1. 2"} {
		if _, err := es.ParsePosition(bad); !errors.Is(err, es.ErrInvalid) {
			t.Errorf("ParsePosition(%q): got %v, want ErrInvalid", bad, err)
		}
	}
}

func TestExpectedVersionValidate(t *testing.T) {
	for _, ok := range []es.ExpectedVersion{es.Any, es.NoStream, es.StreamExists, es.Exact(0), es.Exact(7)} {
		if err := ok.Validate(); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []es.ExpectedVersion{{}, es.Exact(-1)} {
		if err := bad.Validate(); !errors.Is(err, es.ErrInvalid) {
			t.Errorf("%s: got %v, want ErrInvalid", bad, err)
		}
	}
	if es.Exact(4).Version() != 4 || es.Any.Version() != -1 {
		t.Error("Version() wrong")
	}
}

func TestUUID(t *testing.T) {
	u := es.NewUUID()
	if u.IsZero() || u == es.NewUUID() {
		t.Fatal("NewUUID returned zero or a repeat")
	}
	if v := u[6] >> 4; v != 4 {
		t.Errorf("version %d, want 4", v)
	}
	back, err := es.ParseUUID(u.String())
	if err != nil || back != u {
		t.Fatalf("round trip %s: %v %v", u, back, err)
	}
	for _, bad := range []string{"", "not-a-uuid", "6ba7b810-9dad-11d1-80b4-00c04fd430cg", "6ba7b8109dad11d180b400c04fd430c8xxxx"} {
		if _, err := es.ParseUUID(bad); !errors.Is(err, es.ErrInvalid) {
			t.Errorf("ParseUUID(%q): got %v", bad, err)
		}
	}
}

func TestDerivedUUID(t *testing.T) {
	// RFC 9562 appendix A.4: UUIDv5 of "www.example.com" in the DNS namespace.
	dns, _ := es.ParseUUID("6ba7b810-9dad-11d1-80b4-00c04fd430c8")
	if got := es.DerivedUUID(dns, "www.example.com").String(); got != "2ed6657d-e927-568b-95e1-2665a8aea6a2" {
		t.Fatalf("DerivedUUID = %s", got)
	}
	a := es.NewUUID()
	b := a // the same id, reached separately
	if es.DerivedUUID(a, "saga") != es.DerivedUUID(b, "saga") || es.DerivedUUID(a, "saga") == es.DerivedUUID(a, "notify") {
		t.Fatal("derived ids must be stable per (id, name) and differ across names")
	}
}

func TestCategory(t *testing.T) {
	for in, want := range map[string]string{"order-7f3c": "order", "stock-SKU-123": "stock", "plain": "plain", "-x": ""} {
		if got := es.Category(in); got != want {
			t.Errorf("Category(%q) = %q, want %q", in, got, want)
		}
	}
}
