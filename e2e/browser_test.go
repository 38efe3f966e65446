package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const chromiumPath = "/usr/bin/chromium"

// installCommand is what a person has to run when the test cannot.
const installCommand = "apt-get update && apt-get install -y chromium"

var installOnce sync.Once

// ensureChromium installs Debian's Chromium when it is missing and the test
// runs as root on Debian; otherwise it fails with the command to run. A
// browser test that silently skips proves nothing.
func ensureChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err == nil {
		return
	}
	_, debErr := os.Stat("/etc/debian_version")
	if os.Geteuid() != 0 || debErr != nil {
		t.Fatalf("%s is missing; install it as root with: %s", chromiumPath, installCommand)
	}
	var out []byte
	var err error
	installOnce.Do(func() {
		t.Logf("%s is missing; running %q", chromiumPath, installCommand)
		cmd := exec.CommandContext(t.Context(), "sh", "-c", installCommand)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		out, err = cmd.CombinedOutput()
	})
	if _, statErr := os.Stat(chromiumPath); statErr != nil {
		t.Fatalf("installing chromium failed (%v); run as root: %s\n%s", errors.Join(err, statErr), installCommand, tail(out, 2000))
	}
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// newBrowser starts a headless Chromium with a fresh profile; every tab
// made from the returned context shares it, and t's cleanup closes it.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	ensureChromium(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	if err := chromedp.Do(bctx); err != nil { // starts the browser now, so a broken install fails here
		t.Fatalf("start %s: %v", chromiumPath, err)
	}
	return bctx
}

// page is one browser tab on the shop, with its own sessionStorage (a
// fresh tab is a fresh login) and a deadline per step.
type page struct {
	t    *testing.T
	ctx  context.Context
	base string // the gateway's URL
	shot string // screenshot folder
}

func (b *shopRun) newPage(t *testing.T) *page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.browser)
	t.Cleanup(cancel)
	// The tab lives as long as the context of its first Run: open it here,
	// without the per-step deadline.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	return &page{t: t, ctx: ctx, base: b.p.GatewayURL, shot: b.shots}
}

// run runs actions with a deadline and fails the test on error, naming
// the step and saving a screenshot of what the page showed.
func (p *page) run(step string, timeout time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, timeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		name := p.screenshot("failed-" + slug(p.t.Name()+"-"+step))
		p.t.Fatalf("%s: %v (screenshot %s; flash %q)", step, err, name, p.text("#flash"))
	}
}

// text is the text of the first match of sel now, or "" when none.
func (p *page) text(sel string) string {
	ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
	defer cancel()
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q)||{}).textContent||""`, sel)))
	return strings.TrimSpace(s)
}

// screenshot saves the whole page as <shots>/<name>.png and returns the path.
func (p *page) screenshot(name string) string {
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100 means PNG
	if err != nil {
		p.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	path := filepath.Join(p.shot, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil { //nolint:gosec // a picture for people to look at
		p.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	return path
}

// login opens the login page and signs in as user.
func (p *page) login(user string) {
	p.t.Helper()
	p.run("login as "+user, 20*time.Second,
		chromedp.Navigate(p.base+"/#/login"),
		chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SetValue(chromedp.CSS("#username"), user),
		chromedp.SetValue(chromedp.CSS("#password"), "demo"),
		chromedp.Click(chromedp.CSS("#login-submit")),
		chromedp.WaitVisible(chromedp.CSS("#logout")),
	)
}

// waitAttr polls sel's attribute until done accepts it or timeout passes,
// and returns the last value seen.
func (p *page) waitAttr(sel, attr string, timeout time.Duration, done func(string) bool) string {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	var v string
	for {
		ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
		v, _ = chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q)||{getAttribute(){return ""}}).getAttribute(%q)||""`, sel, attr)))
		cancel()
		if done(v) || time.Now().After(deadline) {
			return v
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func slug(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, s)
}

// js runs a script for its effect, as one step among others.
func js(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[any](expr)(ctx, t)
		return err
	})
}
