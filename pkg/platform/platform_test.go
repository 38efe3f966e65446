package platform

import "testing"

func TestWithPoolSize(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"postgres://u@h:5432/db", "postgres://u@h:5432/db?pool_max_conns=8"},
		{"postgres://u@h:5432/db?sslmode=disable", "postgres://u@h:5432/db?sslmode=disable&pool_max_conns=8"},
		{"postgresql://h/db?pool_max_conns=3", "postgresql://h/db?pool_max_conns=3"},
		{"host=h dbname=db", "host=h dbname=db pool_max_conns=8"},
		{"esdb://localhost:2113?tls=false", "esdb://localhost:2113?tls=false"},
		{"kurrentdb://localhost:2113", "kurrentdb://localhost:2113"},
	} {
		if got := WithPoolSize(c.in, 8); got != c.want {
			t.Errorf("WithPoolSize(%q, 8) = %q, want %q", c.in, got, c.want)
		}
	}
}
