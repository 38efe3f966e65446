package launcher

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
)

// tailLines is how many of a child's last lines an error message shows.
const tailLines = 20

// colours are ANSI foreground colours given to children in turn.
var colours = []string{"36", "33", "32", "35", "34", "91", "96", "93"}

// console serialises whole lines from every child onto one writer, so
// that two children never interleave within a line.
type console struct {
	mu    sync.Mutex
	out   io.Writer
	color bool
	width int // the longest name, so the bars line up
}

func newConsole(out io.Writer, color bool, names []string) *console {
	c := &console{out: out, color: color}
	for _, n := range names {
		c.width = max(c.width, len(n))
	}
	return c
}

// prefix is "name |" padded to the longest name, coloured when asked.
func (c *console) prefix(name string, i int) string {
	p := fmt.Sprintf("%-*s |", c.width, name)
	if !c.color {
		return p
	}
	return "\x1b[" + colours[i%len(colours)] + "m" + p + "\x1b[0m"
}

func (c *console) writeLine(prefix string, line []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, _ = fmt.Fprintf(c.out, "%s %s\n", prefix, line)
}

// lineWriter is a child's stdout and stderr: it cuts the stream into lines,
// prints each with the child's prefix and keeps the last few for errors.
type lineWriter struct {
	con    *console
	prefix string

	mu      sync.Mutex
	partial []byte
	tail    []string // ring of the last tailLines lines
	next    int
}

func newLineWriter(con *console, prefix string) *lineWriter {
	return &lineWriter{con: con, prefix: prefix}
}

// Write never fails: a child must not block or die on its log.
func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		w.emit(bytes.TrimSuffix(w.partial[:i], []byte("\r")))
		w.partial = w.partial[i+1:]
	}
	return len(p), nil
}

// Flush prints a last line that had no newline (a crash message).
func (w *lineWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.partial) > 0 {
		w.emit(w.partial)
		w.partial = nil
	}
}

// Note prints a line of the launcher's own about this child.
func (w *lineWriter) Note(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.emit(fmt.Appendf(nil, format, args...))
}

func (w *lineWriter) emit(line []byte) {
	w.con.writeLine(w.prefix, line)
	if len(w.tail) < tailLines {
		w.tail = append(w.tail, string(line))
		return
	}
	w.tail[w.next] = string(line)
	w.next = (w.next + 1) % tailLines
}

// Tail returns the last lines, oldest first, indented for an error message.
func (w *lineWriter) Tail() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	lines := append(append([]string(nil), w.tail[w.next:]...), w.tail[:w.next]...)
	if len(lines) == 0 {
		return "  (no output)"
	}
	return "  " + strings.Join(lines, "\n  ")
}

// IsTerminal reports whether f is a character device (a terminal), and
// NO_COLOR is unset: the CLI's rule for colouring prefixes.
func IsTerminal(f *os.File, getenv func(string) string) bool {
	if getenv("NO_COLOR") != "" {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
