package launcher

import (
	"maps"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ordo-platform/ordo/pkg/devinfra"
)

func testWiring() wiring {
	cfg := Config{Ports: DefaultPorts(), RedisPrefix: "ordo:", IdentitySecret: "s3cret", LogLevel: "debug"}
	return wiring{cfg: cfg, databaseURL: "postgres://db/ordo", redisURL: "redis://r/0",
		mailSMTP: "127.0.0.1:1025", mailAPI: "http://127.0.0.1:8025"}
}

func envOf(t *testing.T, name string, w wiring) map[string]string {
	t.Helper()
	for _, s := range children {
		if s.name == name {
			return s.env(w)
		}
	}
	t.Fatalf("no child %s", name)
	return nil
}

func TestEnvTable(t *testing.T) {
	w := testWiring()
	tests := map[string]map[string]string{
		"provider-sim": {
			"ORDO_PROVIDER_SIM_HTTP_ADDR": "127.0.0.1:8090",
			"ORDO_PROVIDER_SIM_LOG_LEVEL": "debug",
		},
		"payment": {
			"ORDO_PAYMENT_HTTP_ADDR":       "127.0.0.1:8083",
			"ORDO_PAYMENT_DATABASE_URL":    "postgres://db/ordo",
			"ORDO_PAYMENT_REDIS_URL":       "redis://r/0",
			"ORDO_PAYMENT_REDIS_PREFIX":    "ordo:payment:",
			"ORDO_PAYMENT_IDENTITY_SECRET": "s3cret",
			"ORDO_PAYMENT_LOG_LEVEL":       "debug",
			"ORDO_PAYMENT_LOG_FORMAT":      "text",
			"ORDO_PAYMENT_PROVIDER_URL":    "http://127.0.0.1:8090",
		},
		"notify": {
			"ORDO_NOTIFY_HTTP_ADDR":       "127.0.0.1:8084",
			"ORDO_NOTIFY_DATABASE_URL":    "postgres://db/ordo",
			"ORDO_NOTIFY_REDIS_URL":       "redis://r/0",
			"ORDO_NOTIFY_REDIS_PREFIX":    "ordo:notify:",
			"ORDO_NOTIFY_IDENTITY_SECRET": "s3cret",
			"ORDO_NOTIFY_LOG_LEVEL":       "debug",
			"ORDO_NOTIFY_LOG_FORMAT":      "text",
			"ORDO_NOTIFY_SMTP_ADDR":       "127.0.0.1:1025",
			"ORDO_NOTIFY_MAILPIT_API":     "http://127.0.0.1:8025",
		},
		"gateway": {
			"ORDO_GATEWAY_HTTP_ADDR":        "127.0.0.1:8080",
			"ORDO_GATEWAY_REDIS_URL":        "redis://r/0",
			"ORDO_GATEWAY_REDIS_PREFIX":     "ordo:gateway:",
			"ORDO_GATEWAY_IDENTITY_SECRET":  "s3cret",
			"ORDO_GATEWAY_LOG_LEVEL":        "debug",
			"ORDO_GATEWAY_LOG_FORMAT":       "text",
			"ORDO_GATEWAY_ORDER_URL":        "http://127.0.0.1:8081",
			"ORDO_GATEWAY_INVENTORY_URL":    "http://127.0.0.1:8082",
			"ORDO_GATEWAY_PAYMENT_URL":      "http://127.0.0.1:8083",
			"ORDO_GATEWAY_NOTIFY_URL":       "http://127.0.0.1:8084",
			"ORDO_GATEWAY_PROVIDER_SIM_URL": "http://127.0.0.1:8090",
		},
	}
	for name, want := range tests {
		if diff := cmp.Diff(want, envOf(t, name, w)); diff != "" {
			t.Errorf("%s env (-want +got):\n%s", name, diff)
		}
	}
}

// Every variable of a child carries that child's prefix: a typo would be
// silently ignored by the binary.
func TestEnvTableUsesEachChildsPrefix(t *testing.T) {
	w := testWiring()
	for _, s := range children {
		for k := range s.env(w) {
			if !strings.HasPrefix(k, envPrefix(s.name)) {
				t.Errorf("%s: %s lacks prefix %s", s.name, k, envPrefix(s.name))
			}
		}
	}
}

func TestEveryChildHasItsOwnPort(t *testing.T) {
	for _, ports := range []Ports{DefaultPorts(), BasePorts(20000)} {
		seen := map[int]string{ports.MailpitSMTP: "mailpit smtp", ports.MailpitUI: "mailpit ui"}
		for _, s := range children {
			p := ports.of(s.name)
			if other, dup := seen[p]; dup || p == 0 {
				t.Errorf("%s: port %d (also %s)", s.name, p, other)
			}
			seen[p] = s.name
		}
	}
}

func TestEnvListLetsTheTableWin(t *testing.T) {
	got := envList([]string{"PATH=/bin", "ORDO_ORDER_HTTP_ADDR=:1"}, map[string]string{"ORDO_ORDER_HTTP_ADDR": "127.0.0.1:8081"})
	want := []string{"PATH=/bin", "ORDO_ORDER_HTTP_ADDR=:1", "ORDO_ORDER_HTTP_ADDR=127.0.0.1:8081"}
	if diff := cmp.Diff(want, got); diff != "" { // exec.Cmd keeps the last of duplicate keys
		t.Errorf("env (-want +got):\n%s", diff)
	}
}

// Config.Via changes what the children are told and nothing else: the
// Platform still reports the real servers.
func TestViaRewiresOnlyTheChildren(t *testing.T) {
	servers := &infra{env: &devinfra.Env{DatabaseURL: "postgres://db:5432/ordo", RedisURL: "redis://r:6379/0"},
		mail: &devinfra.Mailpit{SMTPAddr: "127.0.0.1:1025", APIURL: "http://127.0.0.1:8025"}}
	cfg := Config{Ports: DefaultPorts(), RedisPrefix: "ordo:", Via: Via{DatabaseURL: "postgres://proxy:1/ordo",
		RedisURL: "redis://proxy:2/0", ProviderURL: "http://proxy:3", SMTPAddr: "proxy:4"}}
	p := &Platform{cfg: cfg, infra: servers}
	p.fill()
	w := p.wiring()
	got := map[string]string{}
	for _, name := range []string{"payment", "notify", "gateway"} {
		maps.Copy(got, envOf(t, name, w))
	}
	for k, want := range map[string]string{
		"ORDO_PAYMENT_DATABASE_URL":     "postgres://proxy:1/ordo",
		"ORDO_PAYMENT_REDIS_URL":        "redis://proxy:2/0",
		"ORDO_PAYMENT_PROVIDER_URL":     "http://proxy:3",
		"ORDO_NOTIFY_SMTP_ADDR":         "proxy:4",
		"ORDO_NOTIFY_MAILPIT_API":       "http://127.0.0.1:8025",
		"ORDO_GATEWAY_REDIS_URL":        "redis://proxy:2/0",
		"ORDO_GATEWAY_PROVIDER_SIM_URL": "http://127.0.0.1:8090",
	} {
		if got[k] != want {
			t.Errorf("%s = %q, want %q", k, got[k], want)
		}
	}
	public := []string{p.DatabaseURL, p.RedisURL, p.MailpitSMTP, p.MailpitAPI}
	if diff := cmp.Diff([]string{"postgres://db:5432/ordo", "redis://r:6379/0", "127.0.0.1:1025", "http://127.0.0.1:8025"}, public); diff != "" {
		t.Errorf("Platform reports (-want +got):\n%s", diff)
	}
}
