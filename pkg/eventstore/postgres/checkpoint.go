package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/eventstore/postgres/db"
)

// Checkpoints stores subscriber checkpoints in the event store's database.
// With a transaction (WithTx) a handler moves its checkpoint in the same
// commit as its effects.
type Checkpoints struct{ q *db.Queries }

var _ es.Checkpoints = Checkpoints{}

// Checkpoints returns the checkpoint table on the store's pool.
func (s *Store) Checkpoints() Checkpoints { return Checkpoints{q: s.q} }

// WithTx returns the checkpoint table inside tx.
func (c Checkpoints) WithTx(tx pgx.Tx) Checkpoints { return Checkpoints{q: c.q.WithTx(tx)} }

// Load implements es.Checkpoints.
func (c Checkpoints) Load(ctx context.Context, name string) (es.Position, error) {
	row, err := c.q.LoadCheckpoint(ctx, name)
	if errors.Is(err, pgx.ErrNoRows) {
		return es.Start, nil
	}
	if err != nil {
		return es.Start, fmt.Errorf("load checkpoint %s: %w", name, err)
	}
	return toPosition(row.CommitPos, row.PreparePos), nil
}

// Save implements es.Checkpoints.
func (c Checkpoints) Save(ctx context.Context, name string, p es.Position) error {
	commit, prepare := fromPosition(p)
	err := c.q.SaveCheckpoint(ctx, db.SaveCheckpointParams{Name: name, CommitPos: commit, PreparePos: prepare})
	if err != nil {
		return fmt.Errorf("save checkpoint %s: %w", name, err)
	}
	return nil
}
