package money

import (
	"encoding/json"
	"errors"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		m    Money
		want error
	}{
		{"euros", Euros(1290), nil},
		{"zero", Zero(EUR), nil},
		{"negative", Euros(-1), ErrInvalid},
		{"no currency", Money{Amount: 1}, ErrInvalid},
		{"lower case", Money{Amount: 1, Currency: "eur"}, ErrInvalid},
		{"too long", Money{Amount: 1, Currency: "EURO"}, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.m.Validate(); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("Validate(%v) = %v, want %v", tt.m, err, tt.want)
			}
		})
	}
}

func TestNew(t *testing.T) {
	if m, err := New(5, EUR); err != nil || m != Euros(5) {
		t.Errorf("New(5, EUR) = %v, %v", m, err)
	}
	if _, err := New(5, "X"); !errors.Is(err, ErrInvalid) {
		t.Errorf("New(5, X) error = %v, want ErrInvalid", err)
	}
}

func TestArithmetic(t *testing.T) {
	tests := []struct {
		name    string
		op      func() (Money, error)
		want    Money
		wantErr error
	}{
		{"add", func() (Money, error) { return Euros(150).Add(Euros(250)) }, Euros(400), nil},
		{"add to zero", func() (Money, error) { return Zero(EUR).Add(Euros(7)) }, Euros(7), nil},
		{"add mismatch", func() (Money, error) { return Euros(1).Add(Money{Amount: 1, Currency: "USD"}) }, Money{}, ErrCurrencyMismatch},
		{"add overflow", func() (Money, error) { return Euros(math.MaxInt64).Add(Euros(1)) }, Money{}, ErrOverflow},
		{"mul", func() (Money, error) { return Euros(1290).Mul(3) }, Euros(3870), nil},
		{"mul zero", func() (Money, error) { return Euros(1290).Mul(0) }, Euros(0), nil},
		{"mul negative", func() (Money, error) { return Euros(1).Mul(-1) }, Money{}, ErrInvalid},
		{"mul overflow", func() (Money, error) { return Euros(math.MaxInt64 / 2).Mul(3) }, Money{}, ErrOverflow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.op()
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
		})
	}
}

func TestJSON(t *testing.T) {
	b, err := json.Marshal(Euros(1290))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"amount":1290,"currency":"EUR"}`; got != want {
		t.Errorf("Marshal = %s, want %s", got, want)
	}
	var m Money
	if err := json.Unmarshal(b, &m); err != nil || m != Euros(1290) {
		t.Errorf("Unmarshal = %v, %v", m, err)
	}
}

func TestString(t *testing.T) {
	for m, want := range map[Money]string{
		Euros(1290):          "12.90 EUR",
		Euros(5):             "0.05 EUR",
		Euros(-105):          "-1.05 EUR",
		Euros(math.MinInt64): "-92233720368547758.08 EUR",
	} {
		if got := m.String(); got != want {
			t.Errorf("%#v.String() = %q, want %q", m, got, want)
		}
	}
}
