package audit

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"slices"
)

// Run audits the sources once. Call it when the system is quiet (see
// Quiet): a saga in flight looks like a pending order. It returns an error
// only when a source cannot be read; broken invariants are in the Report.
func Run(ctx context.Context, src Sources) (Report, error) {
	if src.Store == nil {
		return Report{}, errors.New("audit: no event store")
	}
	h, err := readHistory(ctx, src.Store)
	if err != nil {
		return Report{}, err
	}
	var f findings
	var c Counts
	if err := checkComplete(ctx, src.Store, h, &f); err != nil {
		return Report{}, err
	}
	d := newDecoder(&f)
	checkStreams(h, &f, &c)
	orders := foldOrders(h, d)
	checkOrders(orders, &f, &c)
	checkStock(foldStock(h, d), orders, &f, &c)
	payments := foldPayments(h, d)
	if err := auditMoney(ctx, src.Ledger, payments, orders, &f, &c); err != nil {
		return Report{}, err
	}
	if err := auditMail(ctx, src.Mailbox, h, orders, payments, &f, &c); err != nil {
		return Report{}, err
	}
	sortFindings(f.violations)
	sortFindings(f.warnings)
	// Empty, not nil: the JSON report says [] rather than null.
	return Report{Violations: append([]Violation{}, f.violations...), Warnings: append([]Violation{}, f.warnings...), Counts: c}, nil
}

func auditMoney(ctx context.Context, src LedgerSource, payments map[string]*paymentFacts, orders map[string]*orderFacts, f *findings, c *Counts) error {
	if src == nil {
		f.warn(CheckMoney, "ledger", "no provider ledger: money audited from the payment events alone")
		checkNet(netFromEvents(payments), orders, "payment events", f)
		return nil
	}
	led, err := src.Ledger(ctx)
	if err != nil {
		return err
	}
	c.Charges, c.Refunds = len(led.Charges), len(led.Refunds)
	ix := indexLedger(led)
	checkNet(checkLedger(led, ix, f), orders, "ledger", f)
	checkEventsAgree(payments, ix, f)
	return nil
}

func auditMail(ctx context.Context, src MailSource, h history, orders map[string]*orderFacts, payments map[string]*paymentFacts, f *findings, c *Counts) error {
	if src == nil {
		f.warn(CheckEmail, "mailbox", "no mailbox: emails not audited")
		return nil
	}
	emails, err := src.Messages(ctx)
	if err != nil {
		return err
	}
	c.Emails = len(emails)
	ids := map[string]bool{}
	for id := range orders {
		ids[id] = true
	}
	for id := range payments {
		ids[id] = true
	}
	checkEmails(emails, expectedEmails(orders, payments), orders, newMailMapper(slices.Collect(maps.Keys(ids))), f)
	return nil
}

func sortedKeys[K cmp.Ordered, V any](m map[K]V) []K { return slices.Sorted(maps.Keys(m)) }

func sortedOutcomes[V any](m map[outcome]V) []outcome {
	return slices.SortedFunc(maps.Keys(m), func(a, b outcome) int {
		return cmp.Or(cmp.Compare(a.Order, b.Order), cmp.Compare(a.Kind, b.Kind))
	})
}
