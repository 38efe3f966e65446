package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"

	"github.com/ordo-platform/ordo/pkg/projection"
)

// startBare starts the floor a read through the gateway is held against:
// a bare echo handler, in this process, doing the Redis read the inventory
// service does for GET /products (the catalog's live key space, ZRANGE of
// its SKUs, one pipelined HGETALL per SKU) and answering the result as
// JSON, with no middleware at all. prefix is the inventory service's Redis
// prefix.
func startBare(redisURL, prefix string) (url string, stop func() error, err error) {
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		return "", nil, err
	}
	rdb := redis.NewClient(opts)
	catalog := projection.NewReader(rdb, prefix, "catalog")
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET("/products", func(c echo.Context) error {
		items, err := readCatalog(c.Request().Context(), rdb, catalog)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, items)
	})
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		_ = rdb.Close()
		return "", nil, err
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	stop = func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := srv.Shutdown(ctx)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		return errors.Join(err, rdb.Close())
	}
	return "http://" + ln.Addr().String(), stop, nil
}

func readCatalog(ctx context.Context, rdb *redis.Client, catalog projection.Reader) ([]map[string]string, error) {
	sp, err := catalog.Keys(ctx)
	if err != nil {
		return nil, err
	}
	skus, err := rdb.ZRange(ctx, sp.Key("skus"), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("list catalog: %w", err)
	}
	cmds := make([]*redis.MapStringStringCmd, len(skus))
	if _, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, sku := range skus {
			cmds[i] = p.HGetAll(ctx, sp.Key("product", sku))
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("list catalog: %w", err)
	}
	items := make([]map[string]string, len(skus))
	for i := range skus {
		items[i] = cmds[i].Val()
	}
	return items, nil
}
