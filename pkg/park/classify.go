package park

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/ordo-platform/ordo/pkg/es"
)

// IsPermanent reports whether retrying the event cannot cure err: the
// handler marked it with es.Permanent, the event's body does not decode as
// JSON into what the handler expects, its type is unknown to the
// handler's registry, or the handler panicked. A cancelled context is
// never permanent, whatever else the chain holds.
func IsPermanent(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var (
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
		p      *panicError
	)
	return errors.Is(err, es.ErrPermanent) || errors.Is(err, es.ErrUnknownEventType) ||
		errors.As(err, &syntax) || errors.As(err, &typ) || errors.As(err, &p)
}

// panicError is a handler's panic, recovered.
type panicError struct {
	value any
	stack string
}

func (p *panicError) Error() string { return fmt.Sprintf("panic: %v\n%s", p.value, p.stack) }

// maxStack bounds the stack kept with a panic: the frames that matter are
// the first ones.
const maxStack = 4 << 10

// call runs h, turning a panic into a *panicError.
func call(ctx context.Context, h es.Handler, e es.Event) (err error) {
	defer func() {
		if v := recover(); v != nil {
			stack := debug.Stack()
			if len(stack) > maxStack {
				stack = stack[:maxStack]
			}
			err = &panicError{value: v, stack: string(stack)}
		}
	}()
	return h(ctx, e)
}
