package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// shop is what a run works with: the sessions and the catalog.
type shop struct {
	admin     *client
	shoppers  []*client  // one session per customer
	accountOf []int      // shopper → index in accounts
	accounts  []*account // one per login
	skus      []string
}

// setUp logs everybody in, reads the catalog, restocks it and makes sure
// every account has an order to view when the workload views orders.
func setUp(ctx context.Context, cfg Config, hc *http.Client) (*shop, error) {
	admin, err := login(ctx, cfg.GatewayURL, hc, cfg.Admin, cfg.Password)
	if err != nil {
		return nil, err
	}
	sh := &shop{admin: admin, shoppers: make([]*client, cfg.Customers), accountOf: make([]int, cfg.Customers)}
	for _, name := range cfg.Logins {
		s, err := login(ctx, cfg.GatewayURL, hc, name, cfg.Password)
		if err != nil {
			return nil, err
		}
		sh.accounts = append(sh.accounts, newAccount(name, s))
	}
	if err := sh.logInShoppers(ctx, cfg, hc); err != nil {
		return nil, err
	}
	if err := sh.readCatalog(ctx, cfg.Restock); err != nil {
		return nil, err
	}
	for _, acc := range sh.accounts {
		if err := sh.seedOrders(ctx, acc, cfg.Workload); err != nil {
			return nil, err
		}
	}
	return sh, nil
}

// logInShoppers gives every shopper a session of its own, four logins at a
// time (each costs the gateway a bcrypt comparison).
func (sh *shop) logInShoppers(ctx context.Context, cfg Config, hc *http.Client) error {
	var mu sync.Mutex
	var errs []error
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for c := range sh.shoppers {
		sh.accountOf[c] = c % len(cfg.Logins)
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			s, err := login(ctx, cfg.GatewayURL, hc, cfg.Logins[sh.accountOf[c]], cfg.Password)
			mu.Lock()
			defer mu.Unlock()
			sh.shoppers[c] = s
			errs = append(errs, err)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (sh *shop) readCatalog(ctx context.Context, restock int) error {
	var list struct {
		Items []struct {
			SKU string `json:"sku"`
		} `json:"items"`
	}
	if err := sh.admin.call(ctx, http.MethodGet, "/api/v1/products", nil, &list); err != nil {
		return fmt.Errorf("read the catalog: %w", err)
	}
	for _, it := range list.Items {
		sh.skus = append(sh.skus, it.SKU)
	}
	if len(sh.skus) == 0 {
		return errors.New("read the catalog: no products")
	}
	if restock == 0 {
		return nil
	}
	for _, sku := range sh.skus {
		path := "/api/v1/admin/products/" + url.PathEscape(sku) + "/restock"
		if err := sh.admin.call(ctx, http.MethodPost, path, map[string]int{"quantity": restock}, nil); err != nil {
			return fmt.Errorf("restock: %w", err)
		}
	}
	return nil
}

// seedOrders remembers the account's newest orders for order views, and
// places one first when it has none and the workload views orders.
func (sh *shop) seedOrders(ctx context.Context, acc *account, w Workload) error {
	var page struct {
		Items []listed `json:"items"`
	}
	if err := acc.session.call(ctx, http.MethodGet, "/api/v1/orders?limit=20", nil, &page); err != nil {
		return fmt.Errorf("list the orders of %s: %w", acc.name, err)
	}
	for _, o := range page.Items {
		acc.show(o.ID)
	}
	if len(page.Items) > 0 || w == CheckoutHeavy {
		return nil
	}
	body, _ := json.Marshal(map[string]any{"lines": []line{{SKU: sh.skus[0], Quantity: 1}}})
	a := acc.session.do(ctx, http.MethodPost, "/api/v1/orders", map[string]string{"Idempotency-Key": "load-seed-" + newRunID()}, body)
	var o struct {
		ID       string `json:"id"`
		Position string `json:"position"`
	}
	if !a.ok() || json.Unmarshal(a.body, &o) != nil {
		return fmt.Errorf("place a first order for %s: %s", acc.name, describe(a))
	}
	path := "/api/v1/orders/" + url.PathEscape(o.ID) + "?min_position=" + url.QueryEscape(o.Position)
	for deadline := time.Now().Add(30 * time.Second); ; {
		err := acc.session.call(ctx, http.MethodGet, path, nil, nil)
		if err == nil {
			acc.show(o.ID)
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("read the first order of %s: %w", acc.name, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
