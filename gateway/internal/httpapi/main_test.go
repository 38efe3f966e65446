package httpapi

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/ordo-platform/ordo/pkg/tracing"
)

// TestMain installs a TracerProvider as cmd/gateway does, so the gateway
// under test makes spans of its own and backends see their traceparent.
func TestMain(m *testing.M) {
	stop, err := tracing.Setup(context.Background(), "gateway")
	if err != nil {
		fmt.Fprintln(os.Stderr, "tracing:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = stop(context.Background())
	os.Exit(code)
}
