package audit

import (
	"strings"
)

// ledgerIndex is the provider's ledger by idempotency key (= order id) and
// by charge id.
type ledgerIndex struct {
	byKey     map[string][]Charge
	byID      map[string]Charge
	refundsOf map[string][]Refund // by charge id
}

func indexLedger(l Ledger) ledgerIndex {
	ix := ledgerIndex{byKey: map[string][]Charge{}, byID: map[string]Charge{}, refundsOf: map[string][]Refund{}}
	for _, c := range l.Charges {
		ix.byKey[c.IdempotencyKey] = append(ix.byKey[c.IdempotencyKey], c)
		ix.byID[c.ID] = c
	}
	for _, r := range l.Refunds {
		ix.refundsOf[r.ChargeID] = append(ix.refundsOf[r.ChargeID], r)
	}
	return ix
}

// checkLedger: at most one charge per idempotency key, every refund refunds
// one captured charge once and in full. It returns each key's net charge.
func checkLedger(l Ledger, ix ledgerIndex, f *findings) map[string]amounts {
	for _, key := range sortedKeys(ix.byKey) {
		if cs := ix.byKey[key]; len(cs) > 1 {
			f.violate(CheckMoney, key, "%d charges for one idempotency key: %s", len(cs), chargeIDs(cs))
		}
	}
	for _, r := range l.Refunds {
		c, ok := ix.byID[r.ChargeID]
		switch {
		case !ok:
			f.violate(CheckMoney, r.IdempotencyKey, "refund %s of %s without a charge: charge %s is not in the ledger", r.ID, r.Amount, r.ChargeID)
		case c.Status != ChargeCaptured:
			f.violate(CheckMoney, c.IdempotencyKey, "refund %s of %s refunds charge %s, which is %s", r.ID, r.Amount, c.ID, c.Status)
		case r.Amount != c.Amount:
			f.violate(CheckMoney, c.IdempotencyKey, "refund %s is %s; charge %s was %s", r.ID, r.Amount, c.ID, c.Amount)
		}
	}
	for _, id := range sortedKeys(ix.refundsOf) {
		if rs := ix.refundsOf[id]; len(rs) > 1 {
			f.violate(CheckMoney, ix.byID[id].IdempotencyKey, "charge %s refunded %d times", id, len(rs))
		}
	}
	return netFromLedger(ix)
}

// netFromLedger: captured charges minus the refunds of captured charges,
// per idempotency key. A refund without a captured charge moved no money
// the audit can attribute; checkLedger reports it.
func netFromLedger(ix ledgerIndex) map[string]amounts {
	net := map[string]amounts{}
	for key, cs := range ix.byKey {
		a := amounts{}
		for _, c := range cs {
			if c.Status != ChargeCaptured {
				continue
			}
			a.add(c.Amount, 1)
			for _, r := range ix.refundsOf[c.ID] {
				a.add(r.Amount, -1)
			}
		}
		net[key] = a
	}
	return net
}

// checkEventsAgree: a payment.captured event ⇔ a captured charge in the
// ledger (same amount and reference), a payment.refunded event ⇔ a refund
// of that charge.
func checkEventsAgree(payments map[string]*paymentFacts, ix ledgerIndex, f *findings) {
	keys := map[string]bool{}
	for k := range payments {
		keys[k] = true
	}
	for k := range ix.byKey {
		keys[k] = true
	}
	for _, id := range sortedKeys(keys) {
		p := payments[id]
		if p == nil {
			p = &paymentFacts{}
		}
		c, captured := capturedCharge(ix.byKey[id])
		refunded := captured && len(ix.refundsOf[c.ID]) > 0
		switch {
		case p.Captured && !captured:
			f.violate(CheckMoney, id, "payment.captured (%s, ref %s) but the ledger has no captured charge", p.Amount, p.ProviderRef)
		case !p.Captured && captured:
			f.violate(CheckMoney, id, "ledger charge %s captured %s but there is no payment.captured event", c.ID, c.Amount)
		case captured && (p.Amount != c.Amount || p.ProviderRef != c.ID):
			f.violate(CheckMoney, id, "payment.captured says %s ref %s; the ledger charge is %s ref %s", p.Amount, p.ProviderRef, c.Amount, c.ID)
		}
		switch {
		case p.Refunded && !refunded:
			f.violate(CheckMoney, id, "payment.refunded (%s) but the ledger has no refund of a captured charge", p.RefundAmount)
		case !p.Refunded && refunded:
			f.violate(CheckMoney, id, "ledger refunded charge %s but there is no payment.refunded event", c.ID)
		}
	}
}

func capturedCharge(cs []Charge) (Charge, bool) {
	for _, c := range cs {
		if c.Status == ChargeCaptured {
			return c, true
		}
	}
	return Charge{}, false
}

func chargeIDs(cs []Charge) string {
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.ID + " (" + c.Status + " " + c.Amount.String() + ")"
	}
	return strings.Join(ids, ", ")
}
