package launcher

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// buildResult is which children have a binary to run.
type buildResult struct {
	ready   []spec            // built (or, with NoBuild, present) in start order
	bins    map[string]string // name → binary path
	skipped map[string]string // name → why it is not started
}

// buildAll builds every child's binary into cfg.BinDir. A child whose main
// package does not exist yet is skipped with a clear line; one that fails to
// compile stops the launch unless cfg.SkipBroken.
func buildAll(ctx context.Context, cfg Config, log *slog.Logger) (buildResult, error) {
	res := buildResult{bins: map[string]string{}, skipped: map[string]string{}}
	for _, s := range children {
		bin := filepath.Join(cfg.BinDir, s.name)
		why, err := buildOne(ctx, cfg, s, bin, log)
		if err != nil && !cfg.SkipBroken {
			return res, err
		}
		if err != nil {
			why = "does not build (skipped with -skip-broken): " + err.Error()
		}
		if why != "" {
			log.Warn(s.name + ": " + why)
			res.skipped[s.name] = why
			continue
		}
		res.ready = append(res.ready, s)
		res.bins[s.name] = bin
	}
	if len(res.ready) == 0 {
		return res, fmt.Errorf("no binary to run: %v", res.skipped)
	}
	return res, nil
}

// buildOne returns a reason to skip the child, or an error when its code is
// there but does not compile.
func buildOne(ctx context.Context, cfg Config, s spec, bin string, log *slog.Logger) (string, error) {
	if cfg.NoBuild {
		if _, err := os.Stat(bin); err != nil {
			return "no binary at " + bin + " (built without -no-build?) — skipping", nil
		}
		return "", nil
	}
	if !hasGoFiles(filepath.Join(cfg.Root, s.pkg)) {
		return "not built yet — skipping (no main package in " + s.pkg + ")", nil
	}
	log.Info("build " + s.name + " (" + s.pkg + ")")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./"+s.pkg) //nolint:gosec // fixed package paths
	cmd.Dir = cfg.Root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s: %w\n%s", s.name, err, strings.TrimSpace(string(out)))
	}
	return "", nil
}

// hasGoFiles reports whether dir holds a non-test Go file.
func hasGoFiles(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		n := e.Name()
		if !e.IsDir() && strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") {
			return true
		}
	}
	return false
}
