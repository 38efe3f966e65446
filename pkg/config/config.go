// Package config reads a binary's settings from flags and environment
// variables, one prefix per binary. A flag beats its environment variable,
// which beats the default; --help lists both names. Secrets are masked when
// the settings are logged.
package config

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// Loader collects the settings of one binary.
type Loader struct {
	fs      *flag.FlagSet
	getenv  func(string) string
	prefix  string
	entries []entry
	errs    []error
}

type entry struct {
	flag, env string
	secret    bool
	value     func() string
}

// New returns a loader for the binary name whose environment variables
// start with prefix (e.g. "ORDO_ORDER_"). getenv is usually os.Getenv.
func New(name, prefix string, getenv func(string) string) *Loader {
	l := &Loader{fs: flag.NewFlagSet(name, flag.ContinueOnError), getenv: getenv, prefix: prefix}
	l.fs.Usage = func() {
		fmt.Fprintf(l.fs.Output(), "Usage of %s (flags override environment variables):\n", name)
		l.fs.PrintDefaults()
	}
	return l
}

// SetOutput sets where usage and errors are written.
func (l *Loader) SetOutput(w io.Writer) { l.fs.SetOutput(w) }

// EnvName is the environment variable of a flag: the prefix plus the flag
// name in upper case with '-' as '_'.
func (l *Loader) EnvName(flagName string) string {
	return l.prefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func (l *Loader) lookup(name string) (string, string, bool) {
	env := l.EnvName(name)
	v := l.getenv(env)
	return env, v, v != ""
}

func (l *Loader) usage(name, usage string) string {
	return usage + " (env " + l.EnvName(name) + ")"
}

// String binds a string setting.
func (l *Loader) String(p *string, name, def, usage string) {
	l.str(p, name, def, usage, false)
}

// Secret binds a string setting that is masked when logged.
func (l *Loader) Secret(p *string, name, def, usage string) {
	l.str(p, name, def, usage, true)
}

func (l *Loader) str(p *string, name, def, usage string, secret bool) {
	if _, v, ok := l.lookup(name); ok {
		def = v
	}
	l.fs.StringVar(p, name, def, l.usage(name, usage))
	l.entries = append(l.entries, entry{flag: name, env: l.EnvName(name), secret: secret, value: func() string { return *p }})
}

// Int binds an integer setting.
func (l *Loader) Int(p *int, name string, def int, usage string) {
	if env, v, ok := l.lookup(name); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			l.errs = append(l.errs, fmt.Errorf("%s=%q: not an integer", env, v))
		}
		def = n
	}
	l.fs.IntVar(p, name, def, l.usage(name, usage))
	l.entries = append(l.entries, entry{flag: name, env: l.EnvName(name), value: func() string { return strconv.Itoa(*p) }})
}

// Float binds a floating-point setting.
func (l *Loader) Float(p *float64, name string, def float64, usage string) {
	if env, v, ok := l.lookup(name); ok {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			l.errs = append(l.errs, fmt.Errorf("%s=%q: not a number", env, v))
		}
		def = f
	}
	l.fs.Float64Var(p, name, def, l.usage(name, usage))
	l.entries = append(l.entries, entry{flag: name, env: l.EnvName(name), value: func() string { return strconv.FormatFloat(*p, 'g', -1, 64) }})
}

// Bool binds a boolean setting.
func (l *Loader) Bool(p *bool, name string, def bool, usage string) {
	if env, v, ok := l.lookup(name); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			l.errs = append(l.errs, fmt.Errorf("%s=%q: not true or false", env, v))
		}
		def = b
	}
	l.fs.BoolVar(p, name, def, l.usage(name, usage))
	l.entries = append(l.entries, entry{flag: name, env: l.EnvName(name), value: func() string { return strconv.FormatBool(*p) }})
}

// Duration binds a duration setting ("250ms", "2s").
func (l *Loader) Duration(p *time.Duration, name string, def time.Duration, usage string) {
	if env, v, ok := l.lookup(name); ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			l.errs = append(l.errs, fmt.Errorf("%s=%q: not a duration (like 250ms or 2s)", env, v))
		}
		def = d
	}
	l.fs.DurationVar(p, name, def, l.usage(name, usage))
	l.entries = append(l.entries, entry{flag: name, env: l.EnvName(name), value: func() string { return p.String() }})
}

// Parse reads the flags. It returns flag.ErrHelp for -h/--help (after
// printing usage) and an error naming every bad environment value.
func (l *Loader) Parse(args []string) error {
	if len(l.errs) > 0 {
		return fmt.Errorf("config: %w", joinErrs(l.errs))
	}
	return l.fs.Parse(args)
}

// Args returns the arguments left after the flags (a subcommand and its
// operands).
func (l *Loader) Args() []string { return l.fs.Args() }

// LogValue lists every setting, secrets masked, for one start-up log line.
func (l *Loader) LogValue() slog.Value {
	attrs := make([]slog.Attr, 0, len(l.entries))
	for _, e := range l.entries {
		v := e.value()
		if e.secret && v != "" {
			v = "****"
		} else {
			v = maskURL(v)
		}
		attrs = append(attrs, slog.String(e.flag, v))
	}
	return slog.GroupValue(attrs...)
}

// maskURL hides a password inside a URL-looking value.
func maskURL(v string) string {
	scheme, rest, ok := strings.Cut(v, "://")
	if !ok {
		return v
	}
	userinfo, host, ok := strings.Cut(rest, "@")
	if !ok {
		return v
	}
	if user, _, hasPass := strings.Cut(userinfo, ":"); hasPass {
		return scheme + "://" + user + ":****@" + host
	}
	return v
}

func joinErrs(errs []error) error {
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return fmt.Errorf("%s", strings.Join(msgs, "; "))
}
