package participant

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/ordo-platform/ordo/pkg/es"
)

// sweep expires the due reservations every Sweep until ctx ends.
func (p *Participant) sweep(ctx context.Context) {
	t := time.NewTicker(p.opts.Sweep)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			p.ExpireDue(ctx, now)
		}
	}
}

// ExpireDue expires the reservations due at now. An order whose saga has
// moved past the reservation (securing, commit or release asked for, or
// done) is left alone: its reservation is about to be secured, committed
// or released. That check only saves work: the Stock aggregate is what
// keeps an expiry and a secure from both winning. It returns how many
// orders it expired.
func (p *Participant) ExpireDue(ctx context.Context, now time.Time) int {
	p.mu.Lock()
	var due []string
	holds := map[string]hold{}
	for id, h := range p.held {
		if !now.Before(h.due) {
			due, holds[id] = append(due, id), h
		}
	}
	p.mu.Unlock()
	n := 0
	for _, id := range due {
		settled, err := p.settled(ctx, id)
		if err != nil {
			p.opts.Log.Warn("inventory participant: read saga", "order_id", id, "err", err)
			continue
		}
		if !settled && !p.expire(ctx, id, holds[id].skus) {
			continue // try again next sweep
		}
		if !settled {
			n++
		}
		p.mu.Lock()
		delete(p.held, id)
		p.mu.Unlock()
	}
	return n
}

func (p *Participant) expire(ctx context.Context, orderID string, skus []string) bool {
	ctx = es.WithMetadata(ctx, es.Metadata{CorrelationID: orderID, CausationID: "reservation-ttl", Actor: Actor, SchemaVersion: 1})
	for _, sku := range skus {
		if _, err := p.svc.Expire(ctx, orderID, sku); err != nil {
			p.opts.Log.Warn("inventory participant: expire", "order_id", orderID, "sku", sku, "err", err)
			return false
		}
	}
	p.opts.Log.Info("reservation expired", "order_id", orderID, "ttl", p.opts.TTL)
	return true
}

// settled reports whether the order's saga has moved past the reservation.
func (p *Participant) settled(ctx context.Context, orderID string) (bool, error) {
	events, err := p.store.ReadStream(ctx, es.StreamID(sagaCategory, orderID), es.Forwards, 0, 10_000)
	if errors.Is(err, es.ErrStreamNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, e := range events {
		switch e.Type {
		case secureRequested, confirmRequested, commitRequested, releaseRequested, completed:
			return true, nil
		}
	}
	return false, nil
}

// rebuild finds the reservations still held after a restart: those asked
// for by a saga that has not moved past them. It reads the saga category's
// requests from the start (a demo's volume; a large deployment would keep
// the holds in a table).
func (p *Participant) rebuild(ctx context.Context) error {
	filter := es.Filter{Categories: []string{sagaCategory},
		Types: []string{reservationRequested, secureRequested, releaseRequested, commitRequested, confirmRequested, completed}}
	for from := es.Start; ; {
		batch, err := p.store.ReadAll(ctx, from, filter, 500)
		if err != nil {
			return err
		}
		for _, e := range batch {
			from = e.Position
			var r request
			if e.Type == reservationRequested {
				if err := json.Unmarshal(e.Data, &r); err != nil {
					continue
				}
			} else {
				r.OrderID = strings.TrimPrefix(e.StreamID, sagaCategory+"-")
			}
			p.track(e.Type, r, e.RecordedAt)
		}
		if len(batch) < 500 {
			return nil
		}
	}
}
