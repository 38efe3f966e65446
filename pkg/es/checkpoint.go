package es

import "context"

// Checkpoints remember how far a named subscriber has got. A subscriber that
// stores its checkpoint after each event it handled resumes with nothing lost
// and nothing repeated.
type Checkpoints interface {
	// Load returns the stored position, or Start when none is stored.
	Load(ctx context.Context, name string) (Position, error)
	// Save stores the position.
	Save(ctx context.Context, name string, p Position) error
}
