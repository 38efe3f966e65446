package postgres

// SetCombineSlots sets how many statements or batches s's appends have in
// flight; call it before the first append.
func SetCombineSlots(s *Store, n int) { s.comb.slots = n }

// HoldCombiner takes every free slot of s's combiner, so that appends
// queue until the returned function gives the slots back (each sends what
// has queued, as a slot that finished its statement does).
func HoldCombiner(s *Store) (release func()) {
	c := s.comb
	c.mu.Lock()
	held := c.slots - c.busy
	c.busy = c.slots
	c.mu.Unlock()
	return func() {
		for range held {
			c.release()
		}
	}
}

// Queued returns how many appends wait in s's combiner.
func Queued(s *Store) int {
	s.comb.mu.Lock()
	defer s.comb.mu.Unlock()
	return len(s.comb.queue)
}

// CombineStats returns how many batches of two or more appends s sent and
// how many of them failed as a whole.
func CombineStats(s *Store) (batches, failed int64) {
	return s.comb.batches.Load(), s.comb.failed.Load()
}
