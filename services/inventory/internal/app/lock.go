package app

import (
	"context"
	"sync"
)

// keyedLock serializes commands on one SKU within this process. Without it,
// concurrent reservations of a popular SKU would mostly fail their
// optimistic append and retry; with it only other replicas conflict.
type keyedLock struct {
	mu   sync.Mutex
	held map[string]chan struct{}
	// waiters counts goroutines holding or waiting for each key, so the
	// channel is dropped when the last one leaves.
	waiters map[string]int
}

// lock takes key's lock, or gives up when ctx ends. The returned func
// releases it.
func (k *keyedLock) lock(ctx context.Context, key string) (func(), error) {
	k.mu.Lock()
	if k.held == nil {
		k.held, k.waiters = map[string]chan struct{}{}, map[string]int{}
	}
	ch, ok := k.held[key]
	if !ok {
		ch = make(chan struct{}, 1)
		k.held[key] = ch
	}
	k.waiters[key]++
	k.mu.Unlock()

	select {
	case ch <- struct{}{}:
		return func() { <-ch; k.leave(key) }, nil
	case <-ctx.Done():
		k.leave(key)
		return nil, ctx.Err()
	}
}

func (k *keyedLock) leave(key string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.waiters[key]--; k.waiters[key] == 0 {
		delete(k.waiters, key)
		delete(k.held, key)
	}
}
