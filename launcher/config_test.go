package launcher

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParsePorts(t *testing.T) {
	for in, want := range map[string]Ports{"": DefaultPorts(), "default": DefaultPorts(), "9000": BasePorts(9000)} {
		got, err := ParsePorts(in)
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%q (-want +got):\n%s", in, diff)
		}
	}
	if got := BasePorts(8080); got.Order != 8081 || got.Notify != 8084 || got.Provider != 8090 {
		t.Errorf("base 8080 is not the default layout: %+v", got)
	}
	for _, bad := range []string{"80", "x", "65530"} {
		if _, err := ParsePorts(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestFreePortsAreDistinct(t *testing.T) {
	p, err := ParsePorts("free")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, n := range []int{p.Gateway, p.Order, p.Inventory, p.Payment, p.Notify, p.Provider, p.MailpitSMTP, p.MailpitUI} {
		if n == 0 || seen[n] {
			t.Fatalf("ports not distinct: %+v", p)
		}
		seen[n] = true
	}
}

func TestDefaults(t *testing.T) {
	cfg, err := Config{Root: "/repo", StateDir: "/state"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	got := []string{cfg.BinDir, cfg.DatabaseURL, cfg.RedisPrefix, cfg.MailpitSMTP, cfg.MailpitAPI}
	want := []string{"/repo/bin", "postgres://postgres@127.0.0.1:5432/ordo?sslmode=disable", "ordo:", "127.0.0.1:1025", "http://127.0.0.1:8025"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
}

// -reset drops the URL's database, so a URL naming none (or postgres) is
// refused before anything runs.
func TestRefusesToOwnThePostgresDatabase(t *testing.T) {
	for _, url := range []string{"postgres://u@h:5432/postgres", "postgres://u@h:5432"} {
		_, err := Config{Root: "/r", StateDir: "/s", DatabaseURL: url}.withDefaults()
		if err == nil || !strings.Contains(err.Error(), "platform's own database") {
			t.Errorf("%s: err %v", url, err)
		}
	}
	if _, err := (Config{Root: "/r", StateDir: "/s", RedisPrefix: "ordo"}).withDefaults(); err == nil {
		t.Error("redis prefix without ':' accepted")
	}
}
