package platform

import (
	"github.com/redis/go-redis/v9"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/eventstore/postgres"
	"github.com/ordo-platform/ordo/pkg/metrics"
	"github.com/ordo-platform/ordo/pkg/park"
)

// Parking returns where a service keeps the events its subscribers park:
// the event store's parked_events table when the store is PostgreSQL, else
// Redis under prefix+"parked:" (as Checkpoints does for checkpoints).
func Parking(store es.Store, rdb *redis.Client, prefix string) park.Store {
	if ps, ok := store.(*postgres.Store); ok {
		return park.NewPostgres(ps.Pool())
	}
	return park.NewRedis(rdb, prefix)
}

// CountParked returns a park.Options.OnPark that counts each parked event
// in ordo_parked_events_total on the process's /metrics; the family is
// there, at zero, from the call on.
func CountParked() func(park.Entry) {
	observe := metrics.ParkObserver()
	return func(park.Entry) { observe() }
}
