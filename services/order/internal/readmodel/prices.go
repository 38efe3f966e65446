package readmodel

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/money"
	"github.com/ordo-platform/ordo/pkg/projection"
	"github.com/ordo-platform/ordo/services/inventory"
	"github.com/ordo-platform/ordo/services/order"
)

// PricesName is the name of the price projection.
const PricesName = "prices"

// pricesKey is the hash SKU → price (JSON money) inside the price model.
const pricesKey = "price"

// Prices returns the price projection. reg must know the inventory events
// (inventory.Register).
func Prices(reg *es.Registry) projection.Projection {
	return projection.Projection{
		Name: PricesName,
		Filter: es.Filter{
			Categories: []string{inventory.ProductCategory},
			Types:      []string{inventory.TypeProductAdded, inventory.TypeProductPriceChanged},
		},
		Apply: func(ctx context.Context, e es.Event, tx *projection.Tx) error {
			v, err := reg.Decode(e.Type, e.Data)
			if err != nil {
				return err
			}
			switch ev := v.(type) {
			case inventory.ProductAdded:
				return setPrice(ctx, tx, ev.SKU, ev.Price)
			case inventory.ProductPriceChanged:
				return setPrice(ctx, tx, ev.SKU, ev.Price)
			}
			return nil
		},
	}
}

// setPrice overwrites the SKU's price: the event carries the whole new
// price, so applying it twice leaves the same model.
func setPrice(ctx context.Context, tx *projection.Tx, sku string, price money.Money) error {
	b, err := json.Marshal(price)
	if err != nil {
		return err
	}
	tx.Pipe().HSet(ctx, tx.Key(pricesKey), sku, b)
	return nil
}

// Waiter is a projection that can wait until it has applied every event up
// to a position (a *projection.Runner).
type Waiter interface {
	WaitFor(ctx context.Context, p es.Position) error
}

// Catalog reads the price model. It is the order service's only source of
// prices.
type Catalog struct {
	rdb    *redis.Client
	reader projection.Reader
	store  es.Store
	runner Waiter
	settle time.Duration
}

// NewCatalog returns a reader of the price projection kept under prefix.
// When a SKU is missing it waits, at most settle, for the projection to
// reach the store's head (the last event readers can see) before calling
// the SKU unknown, so a lagging projection does not reject a product the
// store already shows. runner may be nil (no waiting).
func NewCatalog(rdb *redis.Client, prefix string, store es.Store, runner Waiter, settle time.Duration) *Catalog {
	return &Catalog{rdb: rdb, reader: projection.NewReader(rdb, prefix, PricesName), store: store, runner: runner, settle: settle}
}

// Prices returns the current price of each of skus that the catalog knows;
// unknown SKUs are absent. It fails with an error that is
// projection.ErrNotCaughtUp when a SKU is missing and the model could not
// catch up with the store in time, so a lagging model never turns a real
// SKU into "unknown".
func (c *Catalog) Prices(ctx context.Context, skus []string) (order.Prices, error) {
	prices, err := c.lookup(ctx, skus)
	if err != nil || len(prices) == len(skus) || c.runner == nil {
		return prices, err
	}
	head, err := c.store.Head(ctx)
	if err != nil {
		return nil, fmt.Errorf("price catalog: %w", err)
	}
	wctx, cancel := context.WithTimeout(ctx, c.settle)
	defer cancel()
	if err := c.runner.WaitFor(wctx, head); err != nil {
		return nil, fmt.Errorf("price catalog: %w", err)
	}
	return c.lookup(ctx, skus)
}

// lookup reads the prices of skus (which must be distinct) in one HMGET.
func (c *Catalog) lookup(ctx context.Context, skus []string) (order.Prices, error) {
	prices := order.Prices{}
	if len(skus) == 0 {
		return prices, nil
	}
	key, err := c.reader.Key(ctx, pricesKey)
	if err != nil {
		return nil, err
	}
	vals, err := c.rdb.HMGet(ctx, key, skus...).Result()
	if err != nil {
		return nil, fmt.Errorf("read prices: %w", err)
	}
	for i, v := range vals {
		s, ok := v.(string)
		if !ok {
			continue
		}
		var m money.Money
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			return nil, fmt.Errorf("price of %s: %w", skus[i], err)
		}
		prices[skus[i]] = m
	}
	return prices, nil
}
