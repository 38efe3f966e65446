package app

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/ordo-platform/ordo/pkg/es"
)

// maxPause caps the random pause before a retry.
const maxPause = 20 * time.Millisecond

// execute runs repo.Execute, and again after a concurrency conflict, at most
// retries more times. Before each retry it pauses for a random time that
// grows with the attempt: replicas that retry at once tend to collide
// again, and under load one can keep losing until its bound runs out.
func execute[S any](ctx context.Context, repo *es.Repository[S], retries int, id string, decide func(S) ([]any, error)) (es.Outcome[S], error) {
	for attempt := 0; ; attempt++ {
		out, err := repo.Execute(ctx, id, decide)
		if err == nil || !errors.Is(err, es.ErrConcurrency) || attempt >= retries {
			return out, err
		}
		pause := min(time.Millisecond<<attempt, maxPause)
		select {
		case <-ctx.Done():
			return out, ctx.Err()
		case <-time.After(rand.N(pause) + time.Millisecond/2): //nolint:gosec // G404: retry jitter only spreads out competing replicas, nothing depends on it being unpredictable
		}
	}
}
