package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// minKills is how many kills a run has at least, even when the orders are
// placed before the chaos got that far: the sagas are still in flight.
const minKills = 4

// chaos kills victims with SIGKILL at random moments and restarts them
// after a short random pause. Its fields are read after run returns.
type chaos struct {
	p   *loadPlatform
	rng *rand.Rand
	log []string // "payment@3.2s down 410ms", in order
	err error    // a kill or restart that failed
}

func newChaos(p *loadPlatform, rng *rand.Rand) *chaos { return &chaos{p: p, rng: rng} }

// run kills and restarts until ctx ends and at least minKills happened;
// every victim runs again when it returns. The first three kills take each
// victim once, in random order, so every service is crashed in every run.
func (c *chaos) run(ctx context.Context) {
	begin := time.Now()
	order := c.rng.Perm(len(victims))
	for i := 0; ctx.Err() == nil || len(c.log) < minKills; i++ {
		pause := time.Duration(300+c.rng.IntN(1200)) * time.Millisecond
		select {
		case <-ctx.Done():
			if len(c.log) >= minKills {
				return
			}
			time.Sleep(pause / 3)
		case <-time.After(pause):
		}
		victim := victims[c.rng.IntN(len(victims))]
		if i < len(order) {
			victim = victims[order[i]]
		}
		down := time.Duration(100+c.rng.IntN(700)) * time.Millisecond
		if err := c.crash(victim, down); err != nil {
			c.err = err
			return
		}
		c.log = append(c.log, fmt.Sprintf("%s@%.1fs down %v", victim, time.Since(begin).Seconds(), down))
	}
}

// crash kills one victim, waits down, and restarts it until it is ready.
// Not the caller's context: a victim must never stay down.
func (c *chaos) crash(victim string, down time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := c.p.Kill(ctx, victim); err != nil {
		return fmt.Errorf("kill %s: %w", victim, err)
	}
	time.Sleep(down)
	if err := c.p.Restart(ctx, victim); err != nil {
		return fmt.Errorf("restart %s: %w", victim, err)
	}
	return nil
}
