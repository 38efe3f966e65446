// Package money holds amounts of money exactly: integer minor units (cents
// for EUR) of one currency, the way every ordo service, event and API carries
// them ({"amount": 1290, "currency": "EUR"}).
//
// Amounts in ordo are never negative: prices, totals, captures and refunds
// are each non-negative, and a refund is its own event, not a negative
// payment. Validate enforces that.
package money

import (
	"errors"
	"fmt"
	"math"
)

// EUR is the currency the demo shop sells in.
const EUR = "EUR"

// Errors returned by Validate and the arithmetic; test with errors.Is.
var (
	// ErrInvalid means a negative amount or a malformed currency code.
	ErrInvalid = errors.New("invalid money")
	// ErrCurrencyMismatch means two amounts of different currencies met.
	ErrCurrencyMismatch = errors.New("currency mismatch")
	// ErrOverflow means a result does not fit in an int64 of minor units.
	ErrOverflow = errors.New("amount overflows")
)

// Money is an amount in minor units of a currency (ISO 4217 code).
type Money struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

// New returns a validated amount.
func New(amount int64, currency string) (Money, error) {
	m := Money{Amount: amount, Currency: currency}
	return m, m.Validate()
}

// Euros returns an amount of cents in EUR. It does not validate: it is for
// literals such as the seeded catalog and tests.
func Euros(cents int64) Money { return Money{Amount: cents, Currency: EUR} }

// Zero returns nothing of a currency, the start of a sum.
func Zero(currency string) Money { return Money{Currency: currency} }

// Validate checks that the amount is not negative and the currency is three
// upper-case ASCII letters.
func (m Money) Validate() error {
	if m.Amount < 0 {
		return fmt.Errorf("%w: amount %d is negative", ErrInvalid, m.Amount)
	}
	if !validCurrency(m.Currency) {
		return fmt.Errorf("%w: currency %q is not a three-letter ISO 4217 code", ErrInvalid, m.Currency)
	}
	return nil
}

func validCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for i := range len(c) {
		if c[i] < 'A' || c[i] > 'Z' {
			return false
		}
	}
	return true
}

// IsZero reports whether the amount is zero, whatever the currency.
func (m Money) IsZero() bool { return m.Amount == 0 }

// Add returns m + o; both must be in the same currency.
func (m Money) Add(o Money) (Money, error) {
	if m.Currency != o.Currency {
		return Money{}, fmt.Errorf("%w: %s + %s", ErrCurrencyMismatch, m.Currency, o.Currency)
	}
	if (o.Amount > 0 && m.Amount > math.MaxInt64-o.Amount) || (o.Amount < 0 && m.Amount < math.MinInt64-o.Amount) {
		return Money{}, fmt.Errorf("%w: %d + %d", ErrOverflow, m.Amount, o.Amount)
	}
	return Money{Amount: m.Amount + o.Amount, Currency: m.Currency}, nil
}

// Mul returns m × n for a non-negative n (a line's quantity).
func (m Money) Mul(n int64) (Money, error) {
	if n < 0 {
		return Money{}, fmt.Errorf("%w: multiplier %d is negative", ErrInvalid, n)
	}
	if n != 0 && (m.Amount > math.MaxInt64/n || m.Amount < math.MinInt64/n) {
		return Money{}, fmt.Errorf("%w: %d × %d", ErrOverflow, m.Amount, n)
	}
	return Money{Amount: m.Amount * n, Currency: m.Currency}, nil
}

// String formats m for people and logs as "12.90 EUR", assuming two minor
// digits (true of EUR).
func (m Money) String() string {
	sign, a := "", m.Amount
	var u uint64
	if a < 0 {
		sign = "-"
		u = uint64(-(a + 1)) + 1 //nolint:gosec // a < 0, so -(a+1) lies in [0, MaxInt64]; -a itself would overflow at MinInt64
	} else {
		u = uint64(a)
	}
	return fmt.Sprintf("%s%d.%02d %s", sign, u/100, u%100, m.Currency)
}
