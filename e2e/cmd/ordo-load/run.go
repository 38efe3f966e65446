package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ordo-platform/ordo/e2e/load"
)

// run loads the gateway phase by phase and writes the reports.
func run(ctx context.Context, args []string, getenv func(string) string, out, errOut io.Writer) error {
	s, err := parse(args, getenv, out)
	if err != nil {
		return err
	}
	rep := load.Report{Command: commandLine(args), When: time.Now(), Machine: load.ThisMachine(), HTMLLink: s.htmlLink(),
		Platform: "the gateway at " + s.GatewayURL + " as it was running (its own limits apply)"}
	gateway, logins := s.GatewayURL, s.Logins
	if gateway == "" {
		logOut, path, err := openLog(s.LogFile)
		if err != nil {
			return err
		}
		defer func() { _ = logOut.Close() }()
		fmt.Fprintf(errOut, "starting the platform (builds every binary; its log: %s)\n", path)
		st, err := startPlatform(ctx, s, logOut)
		if err != nil {
			return fmt.Errorf("%w (see %s)", err, path)
		}
		defer func() { _ = st.stop(context.WithoutCancel(ctx)) }()
		var cancel context.CancelCauseFunc
		ctx, cancel = context.WithCancelCause(ctx)
		defer cancel(nil)
		go func() {
			select {
			case ex := <-st.p.Failed():
				cancel(ex)
			case <-ctx.Done():
			}
		}()
		gateway, logins, rep.Platform = st.p.GatewayURL, st.logins, st.about
	}
	for i, w := range s.Workloads {
		fmt.Fprintf(errOut, "phase %d/%d: %s at %g arrivals/s, %v warm-up + %v measured\n", i+1, len(s.Workloads), w, s.rate(i), s.Warmup, s.Duration)
		res, err := load.Run(ctx, s.phase(gateway, logins, w, i, errOut))
		if res != nil {
			rep.Phases = append(rep.Phases, res)
		}
		if err != nil {
			if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, err) {
				err = errors.Join(err, cause)
			}
			return errors.Join(fmt.Errorf("phase %s: %w", w, err), s.write(rep, out))
		}
	}
	return s.write(rep, out)
}

// phase is the load configuration of phase i.
func (s settings) phase(gateway string, logins []string, w load.Workload, i int, progress io.Writer) load.Config {
	return load.Config{GatewayURL: gateway, Workload: w, Rate: s.rate(i), Warmup: s.Warmup, Duration: s.Duration,
		Drain: s.Drain, Customers: s.Customers, Logins: logins, Password: s.Password, Admin: s.Admin,
		Seed: uint64(s.Seed) + uint64(i), Timeout: s.Timeout, MaxInFlight: s.MaxInFlight, MaxConns: s.MaxConns, //nolint:gosec // checked not negative
		LateAfter: s.LateAfter, StatusInterval: s.StatusEvery, WatchInterval: s.WatchEvery, Restock: s.Restock,
		Progress: progress, Label: fmt.Sprintf("[%d/%d %s]", i+1, len(s.Workloads), w)}
}

// write writes the Markdown (to a file or out), the HTML and the document
// section that were asked for.
func (s settings) write(rep load.Report, out io.Writer) error {
	if len(rep.Phases) == 0 {
		return nil
	}
	var md bytes.Buffer
	if err := load.WriteMarkdown(&md, rep); err != nil {
		return err
	}
	var errs []error
	if s.Markdown == "" {
		_, err := out.Write(md.Bytes())
		errs = append(errs, err)
	} else {
		errs = append(errs, writeFile(s.Markdown, md.Bytes()))
	}
	if s.HTML != "" {
		var page bytes.Buffer
		errs = append(errs, load.WriteHTML(&page, rep), writeFile(s.HTML, page.Bytes()))
	}
	if s.Doc != "" {
		errs = append(errs, load.UpdateSection(s.Doc, "## Load", md.String()))
	}
	return errors.Join(errs...)
}

func writeFile(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil { //nolint:gosec // a report folder
		return err
	}
	return os.WriteFile(path, b, 0o644) //nolint:gosec // a report
}

// htmlLink is the HTML report's path as the Markdown links to it: relative
// to the document (or Markdown file) it appears in.
func (s settings) htmlLink() string {
	if s.HTML == "" {
		return ""
	}
	from := s.Doc
	if from == "" {
		from = s.Markdown
	}
	if from == "" {
		return s.HTML
	}
	rel, err := filepath.Rel(filepath.Dir(from), s.HTML)
	if err != nil {
		return s.HTML
	}
	return filepath.ToSlash(rel)
}

func openLog(path string) (io.WriteCloser, string, error) {
	if path == "" {
		f, err := os.CreateTemp("", "ordo-load-*.log")
		if err != nil {
			return nil, "", err
		}
		return f, f.Name(), nil
	}
	f, err := os.Create(path) //nolint:gosec // the operator's own path
	return f, path, err
}

// commandLine is how to run this again from the repository root.
func commandLine(args []string) string {
	parts := []string{"go", "run", "./e2e/cmd/ordo-load"}
	for _, a := range args {
		parts = append(parts, shellQuote(a))
	}
	return strings.Join(parts, " ")
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool { return !plain(r) }) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// plain says whether r needs no quoting in a shell word.
func plain(r rune) bool {
	return strings.ContainsRune("-_./:=,", r) || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
}
