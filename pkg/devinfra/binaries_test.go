package devinfra

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeInstall creates bin/ with executable stand-ins for the given tools.
func fakeInstall(t *testing.T, bin string, tools ...string) {
	t.Helper()
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tool := range tools {
		if err := os.WriteFile(filepath.Join(bin, tool), []byte("#!/bin/sh\n"), 0o755); err != nil { //nolint:gosec // must be executable
			t.Fatal(err)
		}
	}
}

func noPath(string) (string, error) { return "", errors.New("not on PATH") }

func TestFindPostgresBinDirPicksHighestVersion(t *testing.T) {
	root := t.TempDir()
	for _, v := range []string{"9.6", "15", "16"} {
		fakeInstall(t, filepath.Join(root, "usr/lib/postgresql", v, "bin"), "initdb", "postgres", "pg_ctl")
	}
	fakeInstall(t, filepath.Join(root, "usr/lib/postgresql/17/bin"), "psql") // client only
	got, err := findPostgresBinDir(root, "", noPath)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(root, "usr/lib/postgresql/16/bin"); got != want {
		t.Errorf("bin dir = %s, want %s", got, want)
	}
}

func TestFindPostgresBinDirPrefersDataVersion(t *testing.T) {
	root := t.TempDir()
	for _, v := range []string{"15", "16"} {
		fakeInstall(t, filepath.Join(root, "usr/lib/postgresql", v, "bin"), "initdb", "postgres")
	}
	got, err := findPostgresBinDir(root, "15", noPath)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(root, "usr/lib/postgresql/15/bin"); got != want {
		t.Errorf("bin dir = %s, want %s", got, want)
	}
}

func TestFindPostgresBinDirFallsBackToPath(t *testing.T) {
	root := t.TempDir()
	bin := filepath.Join(root, "opt/pg/bin")
	fakeInstall(t, bin, "initdb", "postgres")
	lookPath := func(name string) (string, error) { return filepath.Join(bin, name), nil }
	got, err := findPostgresBinDir(root, "", lookPath)
	if err != nil {
		t.Fatal(err)
	}
	if got != bin {
		t.Errorf("bin dir = %s, want %s", got, bin)
	}
}

func TestFindPostgresBinDirNotInstalled(t *testing.T) {
	_, err := findPostgresBinDir(t.TempDir(), "", noPath)
	if !errors.Is(err, errNotInstalled) {
		t.Errorf("err = %v, want errNotInstalled", err)
	}
}

func TestVersionIn(t *testing.T) {
	for path, want := range map[string]string{
		"/usr/lib/postgresql/16/bin":          "16",
		"/usr/lib/postgresql/9.6/bin":         "9.6",
		"/usr/pgsql-15/bin":                   "15",
		"/opt/homebrew/opt/postgresql@14/bin": "14",
		"/usr/bin":                            "",
		"/tmp/001/usr/lib/postgresql/16/bin":  "16",
	} {
		if got := versionIn(path); got != want {
			t.Errorf("versionIn(%s) = %q, want %q", path, got, want)
		}
	}
}

func TestInstallHintNamesCommandsAndVariable(t *testing.T) {
	msg := installHint("PostgreSQL", "127.0.0.1:5432", postgresPackages).Error()
	for _, want := range []string{"apt-get install -y postgresql", "dnf install -y postgresql-server", "brew install postgresql@16", "ORDO_DATABASE_URL", "127.0.0.1:5432"} {
		if !strings.Contains(msg, want) {
			t.Errorf("hint lacks %q:\n%s", want, msg)
		}
	}
}
