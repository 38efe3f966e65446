// Package readmodel keeps the inventory's Redis read models and reads them.
//
// The "catalog" projection folds product.* and stock.* events into one hash
// per SKU (name, price, on hand, available) and a sorted set of the
// catalogued SKUs:
//
//	<prefix>catalog:<space>:product:<sku>   hash name, price_amount, price_currency, on_hand, available
//	<prefix>catalog:<space>:skus            sorted set, every score 0, so ordered by SKU
//
// Stock events carry the units after the event, so applying one sets them
// rather than adding a delta.
package readmodel

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/money"
	"github.com/ordo-platform/ordo/pkg/projection"

	"github.com/ordo-platform/ordo/services/inventory"
)

// Name is the catalog projection's name under the service's Redis prefix.
const Name = "catalog"

// Hash fields of a SKU.
const (
	fieldName      = "name"
	fieldAmount    = "price_amount"
	fieldCurrency  = "price_currency"
	fieldOnHand    = "on_hand"
	fieldAvailable = "available"
)

// ErrNotFound means the catalog has no such SKU.
var ErrNotFound = errors.New("product not found")

// Item is one catalogued SKU as the read model holds it.
type Item struct {
	SKU       string
	Name      string
	Price     money.Money
	OnHand    int
	Available int
}

// Projection returns the catalog projection.
func Projection() projection.Projection {
	reg := es.NewRegistry()
	inventory.Register(reg)
	return projection.Projection{
		Name:   Name,
		Filter: es.Filter{Categories: []string{inventory.ProductCategory, inventory.StockCategory}},
		Apply: func(ctx context.Context, e es.Event, tx *projection.Tx) error {
			v, err := reg.Decode(e.Type, e.Data)
			if errors.Is(err, es.ErrUnknownEventType) {
				return nil // a newer release's event: nothing this model shows
			}
			if err != nil {
				return err
			}
			apply(ctx, tx, v)
			return nil
		},
	}
}

// apply queues the writes of one decoded event.
func apply(ctx context.Context, tx *projection.Tx, event any) {
	pipe := tx.Pipe()
	units := func(sku string, onHand, available int) {
		pipe.HSet(ctx, tx.Key("product", sku), fieldOnHand, onHand, fieldAvailable, available)
	}
	switch e := event.(type) {
	case inventory.ProductAdded:
		pipe.HSet(ctx, tx.Key("product", e.SKU), fieldName, e.Name, fieldAmount, e.Price.Amount, fieldCurrency, e.Price.Currency)
		pipe.ZAdd(ctx, tx.Key("skus"), redis.Z{Member: e.SKU})
	case inventory.ProductPriceChanged:
		pipe.HSet(ctx, tx.Key("product", e.SKU), fieldAmount, e.Price.Amount, fieldCurrency, e.Price.Currency)
	case inventory.StockRestocked:
		units(e.SKU, e.OnHand, e.Available)
	case inventory.StockReserved:
		units(e.SKU, e.OnHand, e.Available)
	case inventory.StockReleased:
		units(e.SKU, e.OnHand, e.Available)
	case inventory.StockCommitted:
		units(e.SKU, e.OnHand, e.Available)
	case inventory.StockReservationExpired:
		units(e.SKU, e.OnHand, e.Available)
	case inventory.StockReservationRejected:
		pipe.HSet(ctx, tx.Key("product", e.SKU), fieldAvailable, e.Available)
	}
}

// Catalog reads the catalog model.
type Catalog struct {
	rdb    *redis.Client
	reader projection.Reader
}

// NewCatalog returns a reader of the catalog kept under prefix.
func NewCatalog(rdb *redis.Client, prefix string) *Catalog {
	return &Catalog{rdb: rdb, reader: projection.NewReader(rdb, prefix, Name)}
}

// List returns every catalogued SKU, ordered by SKU.
func (c *Catalog) List(ctx context.Context) ([]Item, error) {
	sp, err := c.reader.Keys(ctx)
	if err != nil {
		return nil, err
	}
	skus, err := c.rdb.ZRange(ctx, sp.Key("skus"), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("list catalog: %w", err)
	}
	cmds := make([]*redis.MapStringStringCmd, len(skus))
	if _, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, sku := range skus {
			cmds[i] = p.HGetAll(ctx, sp.Key("product", sku))
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("list catalog: %w", err)
	}
	items := make([]Item, 0, len(skus))
	for i, sku := range skus {
		it, err := decodeItem(sku, cmds[i].Val())
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	return items, nil
}

// Get returns one SKU, or ErrNotFound.
func (c *Catalog) Get(ctx context.Context, sku string) (Item, error) {
	key, err := c.reader.Key(ctx, "product", sku)
	if err != nil {
		return Item{}, err
	}
	h, err := c.rdb.HGetAll(ctx, key).Result()
	if err != nil {
		return Item{}, fmt.Errorf("get %s: %w", sku, err)
	}
	if _, ok := h[fieldName]; !ok {
		return Item{}, fmt.Errorf("%w: %s", ErrNotFound, sku)
	}
	return decodeItem(sku, h)
}

func decodeItem(sku string, h map[string]string) (Item, error) {
	it := Item{SKU: sku, Name: h[fieldName], Price: money.Money{Currency: h[fieldCurrency]}}
	var err error
	if it.Price.Amount, err = intField(h, fieldAmount); err != nil {
		return Item{}, fmt.Errorf("catalog %s: %w", sku, err)
	}
	onHand, err := intField(h, fieldOnHand)
	if err != nil {
		return Item{}, fmt.Errorf("catalog %s: %w", sku, err)
	}
	available, err := intField(h, fieldAvailable)
	if err != nil {
		return Item{}, fmt.Errorf("catalog %s: %w", sku, err)
	}
	it.OnHand, it.Available = int(onHand), int(available)
	return it, nil
}

// intField reads an integer field; a missing one (no stock yet) is 0.
func intField(h map[string]string, field string) (int64, error) {
	v, ok := h[field]
	if !ok {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("field %s=%q: %w", field, v, err)
	}
	return n, nil
}
