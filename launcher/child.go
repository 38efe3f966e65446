package launcher

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// child is one running binary. Its process can be stopped, killed and
// started again; each start gets a fresh done channel.
type child struct {
	name string
	bin  string
	args []string
	env  []string
	url  string // http://127.0.0.1:port
	log  *lineWriter

	// onExit hears of every exit the launcher did not ask for.
	onExit func(c *child, err error)

	mu       sync.Mutex
	cmd      *exec.Cmd
	done     chan struct{} // closed when the current process has exited
	exitErr  error         // how it exited, once done is closed
	expected bool          // the launcher asked it to end
}

// start runs the binary in its own process group: a terminal's Ctrl-C goes
// to the launcher alone, which then stops the children in order.
func (c *child) start() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd != nil && !isClosed(c.done) {
		return fmt.Errorf("%s is already running", c.name)
	}
	cmd := exec.Command(c.bin, c.args...) //nolint:gosec,noctx // our own binaries; lifetime managed by stop/kill
	cmd.Env = c.env
	cmd.Stdout, cmd.Stderr = c.log, c.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", c.name, err)
	}
	c.cmd, c.done, c.exitErr, c.expected = cmd, make(chan struct{}), nil, false
	go c.wait(cmd, c.done)
	return nil
}

func (c *child) wait(cmd *exec.Cmd, done chan struct{}) {
	err := cmd.Wait()
	c.log.Flush()
	c.mu.Lock()
	c.exitErr = err
	expected := c.expected
	close(done)
	c.mu.Unlock()
	if !expected && c.onExit != nil {
		c.onExit(c, err)
	}
}

// running reports whether the current process has not exited.
func (c *child) running() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cmd != nil && !isClosed(c.done)
}

// exited is closed when the current process ends; nil before any start.
func (c *child) exited() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.done
}

// stop sends SIGTERM and, after grace, SIGKILL; it returns once the process
// has gone. Stopping a child that is not running does nothing.
func (c *child) stop(ctx context.Context, grace time.Duration) error {
	return c.end(ctx, syscall.SIGTERM, grace)
}

// kill ends the child at once with SIGKILL, as a crash would.
func (c *child) kill(ctx context.Context) error {
	return c.end(ctx, syscall.SIGKILL, 0)
}

func (c *child) end(ctx context.Context, sig syscall.Signal, grace time.Duration) error {
	c.mu.Lock()
	cmd, done := c.cmd, c.done
	if cmd == nil || isClosed(done) {
		c.mu.Unlock()
		return nil
	}
	c.expected = true
	c.mu.Unlock()
	signalGroup(cmd, sig)
	if sig != syscall.SIGKILL {
		select {
		case <-done:
			return nil
		case <-time.After(grace):
			c.log.Note("launcher: no exit %v after %v; sending SIGKILL", sig, grace)
		case <-ctx.Done():
		}
		signalGroup(cmd, syscall.SIGKILL)
	}
	select {
	case <-done:
		return nil
	case <-time.After(5 * time.Second):
		return fmt.Errorf("%s (pid %d) still running after SIGKILL", c.name, cmd.Process.Pid)
	}
}

// signalGroup signals the child's whole process group, so anything it
// spawned goes too.
func signalGroup(cmd *exec.Cmd, sig syscall.Signal) {
	if err := syscall.Kill(-cmd.Process.Pid, sig); errors.Is(err, syscall.ESRCH) {
		_ = cmd.Process.Signal(sig)
	}
}

// describeExit says how a process ended: "exit code 2", "killed by signal".
func describeExit(err error) string {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		if err == nil {
			return "exit code 0"
		}
		return err.Error()
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return "killed by signal " + ws.Signal().String()
	}
	return fmt.Sprintf("exit code %d", ee.ExitCode())
}

func isClosed(ch chan struct{}) bool {
	if ch == nil {
		return true
	}
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
