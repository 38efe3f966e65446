package kurrent

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ordo-platform/ordo/pkg/es"
)

func TestIsURL(t *testing.T) {
	cases := map[string]bool{
		"esdb://127.0.0.1:2113?tls=false":         true,
		"esdb+discover://cluster.local:2113":      true,
		"kurrentdb://admin:changeit@db:2113":      true,
		"kurrentdb+discover://cluster.local:2113": true,
		"KurrentDB://db:2113":                     true,
		"postgres://localhost/ordo":               false,
		"postgresql://localhost/ordo":             false,
		"kurrent://db:2113":                       true,
		"kurrent+discover://cluster:2113":         true,
		"kurrentdb:/db:2113":                      false,
		"esdb:127.0.0.1":                          false,
		"":                                        false,
	}
	for in, want := range cases {
		if got := IsURL(in); got != want {
			t.Errorf("IsURL(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestClientURL(t *testing.T) {
	cases := map[string]string{
		"kurrentdb://db:2113?tls=false":     "esdb://db:2113?tls=false",
		"kurrentdb+discover://cluster:2113": "esdb+discover://cluster:2113",
		"esdb://a:1,b:2,c:3":                "esdb://a:1,b:2,c:3",
	}
	for in, want := range cases {
		if got, err := clientURL(in); err != nil || got != want {
			t.Errorf("clientURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestOpenRejectsBadURLWithoutLeakingPassword(t *testing.T) {
	for _, u := range []string{"postgres://u:s3cret@db/ordo", "esdb://u:s3cret@db:notaport", "esdb://u:s3cret@db:2113/some/path"} {
		_, err := Open(context.Background(), u, Options{Logger: quiet()})
		if !errors.Is(err, es.ErrInvalid) {
			t.Errorf("Open(%q): got %v, want es.ErrInvalid", u, err)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Open(%q): error shows the password: %v", u, err)
		}
	}
}
