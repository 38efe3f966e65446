package devinfra

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParsePostgresURL(t *testing.T) {
	tests := []struct {
		raw     string
		want    endpoint
		wantErr bool
	}{
		{raw: DefaultDatabaseURL, want: endpoint{host: "127.0.0.1", port: 5432, user: "postgres", database: "postgres"}},
		{raw: "postgresql://alice:secret@localhost:5499/orders", want: endpoint{host: "localhost", port: 5499, user: "alice", database: "orders"}},
		{raw: "postgres://alice@[::1]/", want: endpoint{host: "::1", port: 5432, user: "alice", database: "alice"}},
		{raw: "postgres://db.example.com", want: endpoint{host: "db.example.com", port: 5432, user: "postgres", database: "postgres"}},
		{raw: "host=localhost port=5432", wantErr: true},
		{raw: "mysql://localhost/x", wantErr: true},
		{raw: "postgres:///x?host=/var/run/postgresql", wantErr: true},
		{raw: "postgres://localhost:99999/x", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, err := parsePostgresURL(tt.raw)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(endpoint{})); diff != "" {
				t.Errorf("endpoint (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseRedisURL(t *testing.T) {
	tests := []struct {
		raw     string
		want    endpoint
		wantErr bool
	}{
		{raw: DefaultRedisURL, want: endpoint{host: "127.0.0.1", port: 6379}},
		{raw: "redis://:pw@localhost:6399/2", want: endpoint{host: "localhost", port: 6399}},
		{raw: "rediss://cache.example.com", want: endpoint{host: "cache.example.com", port: 6379}},
		{raw: "unix:///tmp/redis.sock", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, err := parseRedisURL(tt.raw)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(endpoint{})); diff != "" {
				t.Errorf("endpoint (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEndpointLoopback(t *testing.T) {
	tests := []struct {
		host       string
		loopback   bool
		listenAddr string
	}{
		{"127.0.0.1", true, "127.0.0.1"},
		{"127.0.0.2", true, "127.0.0.2"},
		{"localhost", true, "127.0.0.1"},
		{"LOCALHOST", true, "127.0.0.1"},
		{"::1", true, "::1"},
		{"10.0.0.5", false, "127.0.0.1"},
		{"db.example.com", false, "127.0.0.1"},
		{"localhost.example.com", false, "127.0.0.1"},
	}
	for _, tt := range tests {
		e := endpoint{host: tt.host, port: 5432}
		if got := e.loopback(); got != tt.loopback {
			t.Errorf("%s: loopback() = %v, want %v", tt.host, got, tt.loopback)
		}
		if got := e.listenAddr(); got != tt.listenAddr {
			t.Errorf("%s: listenAddr() = %q, want %q", tt.host, got, tt.listenAddr)
		}
	}
}

func TestWithDatabase(t *testing.T) {
	got, err := withDatabase("postgres://u:p@127.0.0.1:5432/postgres?sslmode=disable", "ordo_t_1")
	if err != nil {
		t.Fatal(err)
	}
	if want := "postgres://u:p@127.0.0.1:5432/ordo_t_1?sslmode=disable"; got != want {
		t.Errorf("withDatabase = %q, want %q", got, want)
	}
}

func TestRedactHidesPassword(t *testing.T) {
	if got := redact("postgres://u:secret@h/db"); got != "postgres://u:xxxxx@h/db" {
		t.Errorf("redact = %q", got)
	}
}
