package devinfra

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// account is the operating-system user a server runs as. PostgreSQL refuses
// to run as root, so a root process hands it to a system user.
type account struct {
	name     string
	uid, gid int
	switchTo bool // run children under uid/gid instead of this process's own
}

// currentAccount is the user this process runs as.
func currentAccount() account {
	a := account{uid: os.Getuid(), gid: os.Getgid()}
	if u, err := user.Current(); err == nil {
		a.name = u.Username
	}
	return a
}

// lookupAccount returns the named system user, switching to it only when
// this process is root.
func lookupAccount(name string) (account, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return account{}, fmt.Errorf("look up user %s: %w", name, err)
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return account{}, fmt.Errorf("user %s: uid %q: %w", name, u.Uid, err)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return account{}, fmt.Errorf("user %s: gid %q: %w", name, u.Gid, err)
	}
	return account{name: name, uid: uid, gid: gid, switchTo: uid != os.Geteuid()}, nil
}

// procAttr starts a child in its own session, so that a terminal's Ctrl-C
// reaches the command ordo runs and not the servers, and under the account.
func (a account) procAttr() *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Setsid: true}
	if a.switchTo {
		attr.Credential = &syscall.Credential{Uid: uint32(a.uid), Gid: uint32(a.gid)} //nolint:gosec // uids come from the passwd database
	}
	return attr
}

// own gives path to the account when children run under another user.
func (a account) own(path string) error {
	if !a.switchTo {
		return nil
	}
	if err := os.Chown(path, a.uid, a.gid); err != nil {
		return fmt.Errorf("chown %s to %s: %w", path, a.name, err)
	}
	return nil
}

// checkReachable reports, before a server fails with a vaguer message, a
// directory above dir that the account may not enter.
func (a account) checkReachable(dir string) error {
	if !a.switchTo {
		return nil
	}
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		if err := a.checkSearchable(p); err != nil {
			return err
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

func (a account) checkSearchable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return fmt.Errorf("stat %s: %w", p, err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	mode := fi.Mode().Perm()
	switch {
	case mode&0o001 != 0:
		return nil
	case ok && int(st.Uid) == a.uid && mode&0o100 != 0:
		return nil
	case ok && int(st.Gid) == a.gid && mode&0o010 != 0:
		return nil
	}
	return fmt.Errorf("user %s cannot enter %s (mode %v): run `chmod o+x %s` or choose another state dir (-state-dir, ORDO_STATE_DIR)", a.name, p, mode, p)
}

// readPID reads the process id on the first line of a pid file
// (postmaster.pid or redis.pid).
func readPID(path string) (int, error) {
	b, err := os.ReadFile(path) //nolint:gosec // path is inside our state dir
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("pid file %s: bad pid %q", path, line)
	}
	return pid, nil
}

// alive reports whether pid is a running (not zombie) process whose command
// line mentions program, so a recycled pid is never signalled.
func alive(pid int, program string) bool {
	if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		if procState(stat) == 'Z' {
			// A zombie leader may still have threads tearing down, and
			// the process's files and sockets close with the last one.
			return threadsLeft(pid)
		}
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if len(cmdline) == 0 {
			// An exiting process loses its memory, and so its command
			// line, before its files and sockets are closed: it is still
			// there, and its name (at most 15 bytes) says whose it is.
			comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
			return len(comm) > 0 && bytes.Contains(comm, []byte(program[:min(len(program), 15)]))
		}
		return bytes.Contains(cmdline, []byte(program))
	}
	if _, err := os.Stat("/proc/self"); err == nil {
		return false // Linux without that /proc entry: the process is gone
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// threadsLeft reports whether any thread of pid has not exited yet.
func threadsLeft(pid int) bool {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return false
	}
	for _, t := range tasks {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/stat", pid, t.Name()))
		if err != nil {
			continue
		}
		if st := procState(stat); st != 'Z' && st != 'X' {
			return true
		}
	}
	return false
}

// procState returns the state letter of /proc/<pid>/stat, which follows the
// parenthesised command name.
func procState(stat []byte) byte {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 || i+2 >= len(stat) {
		return 0
	}
	return stat[i+2]
}

// stopProcess signals pid and waits until it has exited, escalating to
// SIGKILL when it does not within grace.
func stopProcess(ctx context.Context, pid int, program string, sig syscall.Signal, grace time.Duration) error {
	if err := syscall.Kill(pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signal %s (pid %d): %w", program, pid, err)
	}
	if waitGone(ctx, pid, program, grace) {
		return nil
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	if waitGone(ctx, pid, program, 5*time.Second) {
		return fmt.Errorf("%s (pid %d) ignored %v for %v and was killed", program, pid, sig, grace)
	}
	return fmt.Errorf("%s (pid %d) is still running after SIGKILL", program, pid)
}

func waitGone(ctx context.Context, pid int, program string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for alive(pid, program) {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}

// logTail returns the last n lines of a server log for an error message.
func logTail(path string, n int) string {
	b, err := os.ReadFile(path) //nolint:gosec // path is inside our state dir
	if err != nil {
		return fmt.Sprintf("(no log at %s: %v)", path, err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return fmt.Sprintf("last lines of %s:\n  %s", path, strings.Join(lines, "\n  "))
}
