package deploy

import (
	"context"
	"maps"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// loadCompose loads docker-compose.yml as docker compose would, with
// every profile and no environment of ours (so the defaults in ${...}
// apply), and validates it against the compose specification.
func loadCompose(t *testing.T) *types.Project {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{"docker-compose.yml"},
		cli.WithName("ordo"), cli.WithWorkingDirectory("."), cli.WithProfiles([]string{"*"}), cli.WithEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("load docker-compose.yml: %v", err)
	}
	return p
}

func TestComposeBuildsEveryServiceFromTheDockerfile(t *testing.T) {
	p := loadCompose(t)
	root, _ := filepath.Abs(repoRoot)
	for name, svc := range p.Services {
		if svc.Build == nil {
			if svc.Image == "" || !strings.Contains(svc.Image, ":") || strings.HasSuffix(svc.Image, ":latest") {
				t.Errorf("%s: image %q: want a pinned tag", name, svc.Image)
			}
			if _, ours := binaryFor(name); ours {
				t.Errorf("%s: an ordo binary must be built from deploy/Dockerfile", name)
			}
			continue
		}
		if svc.Build.Context != root {
			t.Errorf("%s: build context %s, want the repository root %s", name, svc.Build.Context, root)
		}
		if svc.Build.Dockerfile != "deploy/Dockerfile" {
			t.Errorf("%s: dockerfile %q, want deploy/Dockerfile", name, svc.Build.Dockerfile)
		}
		arg := svc.Build.Args["SERVICE"]
		if arg == nil || *arg != name {
			t.Errorf("%s: build arg SERVICE=%v, want %s", name, arg, name)
		}
		if _, ok := binaryFor(name); !ok {
			t.Errorf("%s: built from the Dockerfile but not an ordo binary", name)
		}
	}
	for _, b := range binaries {
		if _, ok := p.Services[b.Service]; !ok {
			t.Errorf("no compose service %s", b.Service)
		}
	}
}

func TestComposeSetsWhatEachBinaryReads(t *testing.T) {
	bins := binarySettings(t)
	p := loadCompose(t)
	for _, b := range binaries {
		svc, ok := p.Services[b.Service]
		if !ok {
			continue // reported by TestComposeBuildsEveryServiceFromTheDockerfile
		}
		want := bins[b.Service]
		got := map[string]bool{}
		for k := range svc.Environment {
			got[k] = true
		}
		// Beside its own settings every binary reads OpenTelemetry's standard
		// variables (pkg/tracing); compose says where the spans go.
		env := maps.Clone(want.Env)
		env["OTEL_EXPORTER_OTLP_ENDPOINT"] = true
		diffEnv(t, "compose "+b.Service, env, got)

		addr := value(svc.Environment, b.Prefix+"HTTP_ADDR")
		if addr != "0.0.0.0:"+want.Port {
			t.Errorf("compose %s: %sHTTP_ADDR=%q, want 0.0.0.0:%s", b.Service, b.Prefix, addr, want.Port)
		}
		probe := []string{"CMD", "/healthcheck", "http://127.0.0.1:" + want.Port + "/readyz"}
		if svc.HealthCheck == nil || !slices.Equal([]string(svc.HealthCheck.Test), probe) {
			t.Errorf("compose %s: healthcheck %v, want %v", b.Service, svc.HealthCheck, probe)
		}
		if !slices.ContainsFunc(svc.Ports, func(pc types.ServicePortConfig) bool { return strconv.Itoa(int(pc.Target)) == want.Port }) {
			t.Errorf("compose %s: no published port for %s", b.Service, want.Port)
		}
	}
}

func TestComposeAddressesMatchTheirServices(t *testing.T) {
	bins := binarySettings(t)
	p := loadCompose(t)
	ports := map[string]string{"kurrentdb": "2113", "redis": "6379", "postgres": "5432", "mailpit": "1025/8025"}
	for _, b := range binaries {
		ports[b.Service] = bins[b.Service].Port
	}
	for name, svc := range p.Services {
		for k, v := range svc.Environment {
			if v == nil || !strings.HasPrefix(k, "ORDO_") {
				continue
			}
			host, port, ok := hostPort(*v)
			if !ok {
				continue
			}
			want, known := ports[host]
			if !known {
				t.Errorf("compose %s: %s=%s names %q, not a compose service", name, k, *v, host)
				continue
			}
			if !slices.Contains(strings.Split(want, "/"), port) {
				t.Errorf("compose %s: %s=%s: %s listens on %s", name, k, *v, host, want)
			}
			if _, ok := p.Services[host]; !ok {
				t.Errorf("compose %s: %s=%s: no service %s", name, k, *v, host)
			}
			if _, ok := svc.DependsOn[host]; !ok && host != name {
				t.Errorf("compose %s: uses %s but does not depend on it", name, host)
			}
		}
	}
	// The event store the services use by default is KurrentDB.
	for _, b := range binaries {
		if v := value(p.Services[b.Service].Environment, b.Prefix+"DATABASE_URL"); v != "" && !strings.HasPrefix(v, "esdb://kurrentdb:2113") {
			t.Errorf("compose %s: event store %q, want esdb://kurrentdb:2113...", b.Service, v)
		}
	}
}

func value(env types.MappingWithEquals, key string) string {
	if v := env[key]; v != nil {
		return *v
	}
	return ""
}

// hostPort reads host and port from a URL (scheme://host:port/...) or a
// bare host:port; ok is false for other values.
func hostPort(v string) (host, port string, ok bool) {
	if strings.Contains(v, "://") {
		u, err := url.Parse(v)
		if err != nil || u.Port() == "" {
			return "", "", false
		}
		return u.Hostname(), u.Port(), true
	}
	h, p, err := net.SplitHostPort(v)
	if err != nil || h == "" || h == "0.0.0.0" || strings.ContainsAny(h, " ") {
		return "", "", false
	}
	if _, err := strconv.Atoi(p); err != nil {
		return "", "", false
	}
	return h, p, true
}
