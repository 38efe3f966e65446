package devinfra

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
)

// DefaultStateDir is .ordo/ in the repository root: the nearest directory
// above the working directory that holds go.work (or, failing that, .git).
// Outside a checkout it is ordo/ in the user's cache directory.
func DefaultStateDir() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("state dir: %w", err)
	}
	for _, marker := range []string{"go.work", ".git"} {
		if root, ok := findUp(wd, marker); ok {
			return filepath.Join(root, ".ordo"), nil
		}
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("state dir: %w", err)
	}
	return filepath.Join(cache, "ordo"), nil
}

// findUp returns the first directory from dir upwards that contains name.
func findUp(dir, name string) (string, bool) {
	for {
		if fileExists(filepath.Join(dir, name)) {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// StopPrivate stops the private PostgreSQL and Redis whose files are in
// stateDir, whichever process started them. Servers it did not start are
// never touched: it signals only the pids recorded in stateDir.
func StopPrivate(ctx context.Context, stateDir string, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	pgPID, pgErr := stopPostgres(ctx, newPGLayout(stateDir).data)
	report(log, "postgres", pgPID, pgErr)
	redisPID, redisErr := stopRedis(ctx, newRedisLayout(stateDir).pidFile)
	report(log, "redis", redisPID, redisErr)
	return errors.Join(wrapIf(pgErr, "stop postgres"), wrapIf(redisErr, "stop redis"))
}

func report(log *slog.Logger, what string, pid int, err error) {
	switch {
	case err != nil:
	case pid == 0:
		log.Info(what + ": no private instance running")
	default:
		log.Info(fmt.Sprintf("%s: stopped private instance (pid %d)", what, pid))
	}
}

// Reset stops the private instances and deletes their data, so the next
// Ensure starts from an empty cluster. Only the postgres/ and redis/
// directories inside stateDir are removed, and stateDir itself if that left
// it empty.
func Reset(ctx context.Context, stateDir string, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := StopPrivate(ctx, stateDir, log); err != nil {
		return err
	}
	for _, dir := range []string{newPGLayout(stateDir).dir, newRedisLayout(stateDir).dir} {
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("reset: %w", err)
		}
	}
	_ = os.Remove(stateDir) // only succeeds when empty
	log.Info("reset: deleted private PostgreSQL and Redis data in " + stateDir)
	return nil
}
