package devinfra

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// postgresBinDirGlobs are where distributions put versioned PostgreSQL
// binaries: Debian/Ubuntu, Fedora/RHEL (PGDG), Homebrew.
var postgresBinDirGlobs = []string{
	"/usr/lib/postgresql/*/bin",
	"/usr/pgsql-*/bin",
	"/opt/homebrew/opt/postgresql@*/bin",
	"/usr/local/opt/postgresql@*/bin",
}

// postgresTools are the programs a private instance needs, all from one
// installation.
var postgresTools = []string{"initdb", "postgres"}

// errNotInstalled says a server's binaries are not on this machine.
var errNotInstalled = errors.New("binaries not installed")

// findPostgresBinDir returns the directory holding initdb and postgres. It
// prefers the installation whose major version is want (the version of an
// existing data directory), then the highest version, then PATH.
func findPostgresBinDir(root string, want string, lookPath func(string) (string, error)) (string, error) {
	dirs := versionedDirs(root, postgresBinDirGlobs)
	for _, d := range dirs {
		if want != "" && d.version == want && hasTools(d.path) {
			return d.path, nil
		}
	}
	for _, d := range dirs {
		if hasTools(d.path) {
			return d.path, nil
		}
	}
	return pathBinDir(lookPath)
}

// pathBinDir finds the PostgreSQL tools through PATH, resolving symlinks so
// that the server finds its own support files.
func pathBinDir(lookPath func(string) (string, error)) (string, error) {
	p, err := lookPath("initdb")
	if err != nil {
		return "", errNotInstalled
	}
	if real, err := filepath.EvalSymlinks(p); err == nil {
		p = real
	}
	dir := filepath.Dir(p)
	if !hasTools(dir) {
		return "", errNotInstalled
	}
	return dir, nil
}

type versionedDir struct {
	path    string
	version string
}

// versionedDirs expands the globs under root and orders the matches by the
// version number in their path, highest first (16 before 9.6).
func versionedDirs(root string, globs []string) []versionedDir {
	var out []versionedDir
	for _, g := range globs {
		matches, _ := filepath.Glob(filepath.Join(root, g))
		for _, m := range matches {
			out = append(out, versionedDir{path: m, version: versionIn(m)})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		return versionLess(out[j].version, out[i].version)
	})
	return out
}

// versionIn extracts the version from paths like /usr/lib/postgresql/16/bin
// or /usr/pgsql-16/bin: the number nearest the end of the path.
func versionIn(path string) string {
	parts := strings.Split(filepath.ToSlash(path), "/")
	for i := len(parts) - 1; i >= 0; i-- {
		part := parts[i]
		if i := strings.LastIndexAny(part, "-@"); i >= 0 {
			part = part[i+1:]
		}
		if _, err := strconv.ParseFloat(part, 64); err == nil {
			return part
		}
	}
	return ""
}

// versionLess compares dotted version numbers numerically.
func versionLess(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) || i < len(bs); i++ {
		x, y := versionPart(as, i), versionPart(bs, i)
		if x != y {
			return x < y
		}
	}
	return false
}

func versionPart(parts []string, i int) int {
	if i >= len(parts) {
		return -1
	}
	n, err := strconv.Atoi(parts[i])
	if err != nil {
		return -1
	}
	return n
}

func hasTools(dir string) bool {
	for _, t := range postgresTools {
		if !isExecutable(filepath.Join(dir, t)) {
			return false
		}
	}
	return true
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// installer installs missing server packages, at most once per Ensure.
type installer struct {
	log     *slog.Logger
	out     io.Writer
	updated bool
}

// pkgNames are the distribution package names of one server, for install
// hints and for apt-get.
type pkgNames struct {
	apt, dnf, brew string
	envVar         string // the variable that points ordo at a running server instead
}

var (
	postgresPackages = pkgNames{apt: "postgresql", dnf: "postgresql-server", brew: "postgresql@16", envVar: "ORDO_DATABASE_URL"}
	redisPackages    = pkgNames{apt: "redis-server", dnf: "redis", brew: "redis", envVar: "ORDO_REDIS_URL"}
)

// install runs apt-get when this process may (root on Debian or Ubuntu) and
// otherwise returns an error that says how to install the package by hand.
func (in *installer) install(ctx context.Context, what, addr string, p pkgNames) error {
	if os.Geteuid() != 0 || !fileExists("/etc/debian_version") {
		return installHint(what, addr, p)
	}
	in.log.Info(fmt.Sprintf("%s: binaries not found; installing package %s with apt-get", what, p.apt))
	if !in.updated {
		if err := in.run(ctx, "apt-get", "update"); err != nil {
			return err
		}
		in.updated = true
	}
	return in.run(ctx, "apt-get", "install", "-y", "--no-install-recommends", p.apt)
}

func (in *installer) run(ctx context.Context, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = in.out, in.out
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return nil
}

func installHint(what, addr string, p pkgNames) error {
	return fmt.Errorf(`%w: %s is not installed and nothing answers at %s.
Install it, then run again:
  Debian/Ubuntu:  sudo apt-get install -y %s
  Fedora/RHEL:    sudo dnf install -y %s
  macOS:          brew install %s
or set %s to a server that is running`, errNotInstalled, what, addr, p.apt, p.dnf, p.brew, p.envVar)
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
