package deploy

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// binary is one of ordo's deployable commands, as the Dockerfile's
// SERVICE argument names it.
type binary struct {
	Service string // SERVICE build argument, compose service, Deployment
	Package string // main package, relative to the repository root
	Prefix  string // environment prefix of its settings
}

var binaries = []binary{
	{"order", "services/order/cmd/order", "ORDO_ORDER_"},
	{"inventory", "services/inventory/cmd/inventory", "ORDO_INVENTORY_"},
	{"payment", "services/payment/cmd/payment", "ORDO_PAYMENT_"},
	{"notify", "services/notify/cmd/notify", "ORDO_NOTIFY_"},
	{"gateway", "gateway/cmd/gateway", "ORDO_GATEWAY_"},
	{"provider-sim", "services/payment/cmd/provider-sim", "ORDO_PROVIDER_SIM_"},
}

func binaryFor(service string) (binary, bool) {
	for _, b := range binaries {
		if b.Service == service {
			return b, true
		}
	}
	return binary{}, false
}

// repoRoot is the repository root: the test runs in deploy/.
const repoRoot = ".."

// settings is what a binary's --help says it reads.
type settings struct {
	Env  map[string]bool // every ORDO_* variable
	Port string          // the port of http-addr's default
	Exe  string          // the built executable
}

var (
	buildOnce sync.Once
	built     map[string]settings
	buildErr  error
)

// binarySettings builds every binary once per test run (one go build
// call, so the build cache and one link per binary are all it costs) and
// reads each one's --help.
func binarySettings(t *testing.T) map[string]settings {
	t.Helper()
	buildOnce.Do(func() { built, buildErr = buildAll(t.Context()) })
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return built
}

func buildAll(ctx context.Context) (map[string]settings, error) {
	dir, err := os.MkdirTemp("", "ordo-deploy-test-")
	if err != nil {
		return nil, err
	}
	cleanups = append(cleanups, func() { _ = os.RemoveAll(dir) })
	args := []string{"build", "-o", dir + string(os.PathSeparator)}
	for _, b := range binaries {
		args = append(args, "./"+b.Package)
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = repoRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	all := make(map[string]settings, len(binaries))
	for _, b := range binaries {
		exe := filepath.Join(dir, filepath.Base(b.Package))
		out, _ := exec.CommandContext(ctx, exe, "--help").CombinedOutput() // exits 0 or 1 on --help
		s, err := parseHelp(out, b.Prefix)
		if err != nil {
			return nil, fmt.Errorf("%s --help: %w\n%s", b.Service, err, out)
		}
		s.Exe = exe
		all[b.Service] = s
	}
	return all, nil
}

var (
	flagLine = regexp.MustCompile(`^  -([a-z0-9-]+)`)
	envName  = regexp.MustCompile(`\(env ([A-Z0-9_]+)\)`)
	defValue = regexp.MustCompile(`\(default "?([^")]*)"?\)\s*$`)
)

// parseHelp reads the flag package's usage as pkg/config writes it: a
// "  -flag type" line, then the usage with "(env NAME)" and "(default V)".
func parseHelp(out []byte, prefix string) (settings, error) {
	s := settings{Env: map[string]bool{}}
	var current string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if m := flagLine.FindStringSubmatch(line); m != nil {
			current = m[1]
		}
		if m := envName.FindStringSubmatch(line); m != nil {
			if !strings.HasPrefix(m[1], prefix) {
				return s, fmt.Errorf("%s is not under %s", m[1], prefix)
			}
			s.Env[m[1]] = true
		}
		if current == "http-addr" {
			if m := defValue.FindStringSubmatch(line); m != nil {
				_, port, ok := strings.Cut(m[1], ":")
				if !ok {
					return s, fmt.Errorf("http-addr default %q has no port", m[1])
				}
				s.Port = port
			}
		}
	}
	switch {
	case len(s.Env) == 0:
		return s, fmt.Errorf("no (env ...) in the usage")
	case s.Port == "":
		return s, fmt.Errorf("no http-addr default in the usage")
	}
	return s, nil
}

var cleanups []func()

func TestMain(m *testing.M) {
	code := m.Run()
	for _, c := range cleanups {
		c()
	}
	os.Exit(code)
}

// diffEnv reports variables the binary reads that are not set, and
// variables set that the binary does not read.
func diffEnv(t *testing.T, where string, want map[string]bool, got map[string]bool) {
	t.Helper()
	for name := range want {
		if !got[name] {
			t.Errorf("%s: %s is read by the binary but not set", where, name)
		}
	}
	for name := range got {
		if !want[name] {
			t.Errorf("%s: %s is set but the binary does not read it", where, name)
		}
	}
}

func TestDockerfileBuildsEveryBinary(t *testing.T) {
	df, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	text := string(df)
	for _, b := range binaries {
		pkg := dockerfilePackage(t, text, b.Service)
		if pkg != b.Package {
			t.Errorf("Dockerfile builds %q for SERVICE=%s, want %q", pkg, b.Service, b.Package)
		}
		assertMainPackage(t, b.Package)
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "distroless/static", "USER nonroot", "./deploy/healthcheck"} {
		if !strings.Contains(text, want) {
			t.Errorf("Dockerfile: no %q", want)
		}
	}
	assertMainPackage(t, "deploy/healthcheck")
}

var caseArm = regexp.MustCompile(`(?m)^\s*([a-z|-]+)\)\s*pkg="([^"]+)"`)

// dockerfilePackage is the package the Dockerfile's case statement builds
// for service.
func dockerfilePackage(t *testing.T, dockerfile, service string) string {
	t.Helper()
	for _, m := range caseArm.FindAllStringSubmatch(dockerfile, -1) {
		for _, label := range strings.Split(m[1], "|") {
			if label == service {
				pkg := strings.ReplaceAll(m[2], "${SERVICE}", service)
				return strings.TrimPrefix(pkg, "./")
			}
		}
	}
	t.Errorf("Dockerfile: no case arm for SERVICE=%s", service)
	return ""
}

func assertMainPackage(t *testing.T, dir string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(repoRoot, dir, "*.go"))
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err == nil && regexp.MustCompile(`(?m)^package main$`).Match(src) && bytes.Contains(src, []byte("func main()")) {
			return
		}
	}
	t.Errorf("%s: no main package with func main", dir)
}
