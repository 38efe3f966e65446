package park_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/park"
)

func TestIsPermanent(t *testing.T) {
	var v struct{ N int }
	typeErr := json.Unmarshal([]byte(`{"N":"x"}`), &v)
	syntaxErr := json.Unmarshal([]byte(`{`), &v)
	_, unknown := es.NewRegistry().Decode("nobody.knows", nil)
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"marked", es.Permanent(errors.New("no such sku")), true},
		{"marked, wrapped", fmt.Errorf("handle: %w", es.Permanent(errors.New("x"))), true},
		{"body of the wrong type", fmt.Errorf("decode: %w", typeErr), true},
		{"body not JSON", fmt.Errorf("decode: %w", syntaxErr), true},
		{"unknown event type", unknown, true},
		{"database down", errors.New("dial tcp 127.0.0.1:5432: connection refused"), false},
		{"conflict", &es.ConcurrencyError{Stream: "s", Expected: es.Exact(1), Actual: 2}, false},
		{"cancelled", context.Canceled, false},
		{"cancelled, even if marked", es.Permanent(fmt.Errorf("stop: %w", context.Canceled)), false},
		{"deadline", fmt.Errorf("read: %w", context.DeadlineExceeded), false},
	}
	for _, tt := range tests {
		if got := park.IsPermanent(tt.err); got != tt.want {
			t.Errorf("%s: IsPermanent(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
	if !errors.Is(es.Permanent(typeErr), es.ErrPermanent) || es.Permanent(nil) != nil {
		t.Error("es.Permanent does not mark, or marks nil")
	}
}
