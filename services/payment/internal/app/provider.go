package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ordo-platform/ordo/services/payment"
	"github.com/ordo-platform/ordo/services/payment/internal/provider"
)

// maxDetail is the domain's bound on texts (payment.ReportUnknown).
const maxDetail = 200

// charge asks the provider to charge p and records its answer.
func (s *Service) charge(ctx context.Context, p payment.Payment) (payment.Payment, error) {
	o, err := s.prov.Charge(ctx, p.OrderID, p.Amount)
	if err != nil {
		return p, providerError("charge", p.OrderID, err)
	}
	return s.record(ctx, p.OrderID, o)
}

// resolve asks the provider what became of p's charge and records it. When
// the provider has no charge: a payment whose outcome is unknown (a call
// went out) or that is still wanted is charged again under the same key; a
// pending payment that was called off is left alone, as nothing was charged.
func (s *Service) resolve(ctx context.Context, p payment.Payment) (payment.Payment, error) {
	o, found, err := s.prov.Lookup(ctx, p.OrderID)
	if err != nil {
		return p, providerError("look up", p.OrderID, err)
	}
	switch {
	case found:
		return s.record(ctx, p.OrderID, o)
	case p.Status == payment.StatusPending && p.Cancelled:
		return p, nil
	}
	return s.charge(ctx, p)
}

// record records the provider's answer to a charge.
func (s *Service) record(ctx context.Context, orderID string, o provider.Outcome) (payment.Payment, error) {
	out, err := s.repo.Execute(ctx, orderID, func(p payment.Payment) ([]any, error) {
		switch o.Kind {
		case provider.Captured:
			return p.Capture(o.Ref)
		case provider.Declined:
			return p.Decline(clip(o.Reason, "declined"))
		}
		return p.ReportUnknown(clip(o.Detail, "no answer from the provider"))
	})
	if err != nil {
		return payment.Payment{}, fmt.Errorf("record %s charge of %s: %w", o.Kind, orderID, err)
	}
	if o.Kind == provider.Unknown {
		s.log.WarnContext(ctx, "payment outcome unknown; reconcile", "order_id", orderID, "detail", o.Detail)
	}
	return out.State, nil
}

// refund refunds p's charge and records it. The provider refunds a charge
// once, so a refund repeated after a lost answer returns the same refund.
func (s *Service) refund(ctx context.Context, p payment.Payment) (payment.Payment, error) {
	ref, err := s.prov.Refund(ctx, p.OrderID, p.ProviderRef)
	if err != nil {
		return p, providerError("refund", p.OrderID, err)
	}
	out, err := s.repo.Execute(ctx, p.OrderID, func(p payment.Payment) ([]any, error) { return p.Refund(ref) })
	if err != nil {
		return payment.Payment{}, fmt.Errorf("record refund of %s: %w", p.OrderID, err)
	}
	return out.State, nil
}

func providerError(op, orderID string, err error) error {
	switch {
	case errors.Is(err, provider.ErrUnavailable):
		return fmt.Errorf("%w: %s %s: %w", ErrProviderUnavailable, op, orderID, err)
	case errors.Is(err, provider.ErrRejected):
		return fmt.Errorf("%w: %s %s: %w", ErrProviderRejected, op, orderID, err)
	}
	return fmt.Errorf("%s %s: %w", op, orderID, err)
}

// clip fits a provider text into the domain's bound (def when empty).
func clip(s, def string) string {
	if s == "" {
		return def
	}
	if len(s) > maxDetail {
		s = strings.ToValidUTF8(s[:maxDetail], "")
	}
	return s
}

// Backlog lists the orders whose payment needs reconciling: outcome
// unknown, or a refund due.
type Backlog interface {
	NeedsAttention(ctx context.Context) ([]string, error)
}

// RunReconciler reconciles the backlog every interval until ctx ends, so an
// unknown outcome or a failed refund heals without anyone asking.
func (s *Service) RunReconciler(ctx context.Context, b Backlog, every time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		ids, err := b.NeedsAttention(ctx)
		if err != nil {
			s.log.Warn("reconciler: read backlog", "err", err)
			continue
		}
		for _, id := range ids {
			if ctx.Err() != nil {
				return nil
			}
			if _, err := s.Reconcile(ctx, id); err != nil {
				s.log.Warn("reconciler: reconcile", "order_id", id, "err", err)
			}
		}
	}
}
