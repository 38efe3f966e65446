package launcher

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/ordo-platform/ordo/pkg/testenv"
)

// reset empties the platform's database and its Redis keys, and leaves
// everything else alone.
func TestResetDropsTheDatabaseAndThePrefixKeys(t *testing.T) {
	dbURL := testenv.Database(t)
	rdb, prefix := testenv.Redis(t)
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE leftover (x int)"); err != nil {
		t.Fatal(err)
	}
	_ = conn.Close(ctx)         // reset ends sessions anyway; this one is ours
	keep := prefix + "ordo:t:x" // like a test's key: under "ordo:" but no child's
	for _, k := range []string{prefix + "ordo:order:a", prefix + "ordo:gateway:b*", keep} {
		if err := rdb.Set(ctx, k, "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	cfg := Config{DatabaseURL: dbURL, RedisURL: rdb.Options().Addr, RedisPrefix: prefix + "ordo:"}
	cfg.RedisURL = "redis://" + rdb.Options().Addr + "/" + itoa(rdb.Options().DB)
	if err := reset(ctx, cfg, discard()); err != nil {
		t.Fatal(err)
	}
	if left := rdb.Keys(ctx, prefix+"*").Val(); len(left) != 1 || left[0] != keep {
		t.Errorf("keys left %v, want only %s", left, keep)
	}
	conn, err = pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatalf("database not re-created: %v", err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	var tables int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE tablename = 'leftover'").Scan(&tables); err != nil || tables != 0 {
		t.Errorf("leftover table survived the reset (count %d, err %v)", tables, err)
	}
}

func TestEscapeGlob(t *testing.T) {
	if got := escapeGlob(`a*b?[c]\`); got != `a\*b\?\[c\]\\` {
		t.Errorf("escapeGlob = %q", got)
	}
}
