package participant_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/eventstore/postgres"
	"github.com/ordo-platform/ordo/pkg/testenv"
	"github.com/ordo-platform/ordo/services/inventory/internal/participant"
)

// brokenCheckpoints cannot be read, as during a database outage.
type brokenCheckpoints struct{}

func (brokenCheckpoints) Load(context.Context, string) (es.Position, error) {
	return es.Start, errors.New("checkpoint unreadable")
}

func (brokenCheckpoints) Save(context.Context, string, es.Position) error {
	return errors.New("checkpoint unwritable")
}

// Run returns when it cannot go on, so that its caller can start it again:
// its expiry sweep must not keep it waiting.
func TestRunReturnsWhenItFails(t *testing.T) {
	store, err := postgres.Open(context.Background(), testenv.Database(t), postgres.Options{Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	p := participant.New(store, nil, participant.Options{Checkpoints: brokenCheckpoints{}, Log: quiet})
	done := make(chan error, 1)
	go func() { done <- p.Run(context.Background()) }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Run = nil, want the checkpoint's error")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after its checkpoint could not be loaded")
	}
}
