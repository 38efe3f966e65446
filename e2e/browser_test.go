package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
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
	t       *testing.T
	ctx     context.Context
	base    string // the gateway's URL
	shot    string // screenshot folder
	console *consoleWatch
	width   int // the emulated window width, when set
}

// newPage opens a tab that watches its console from the start: when the
// test ends, any error it logged that the test did not expect fails it.
func (b *shopRun) newPage(t *testing.T) *page {
	t.Helper()
	w := &consoleWatch{}
	ctx, cancel := chromedp.NewContext(b.browser, chromedp.WithListener(w.listen))
	t.Cleanup(func() {
		cancel()
		w.check(t)
	})
	// The tab lives as long as the context of its first Run: open it here,
	// without the per-step deadline.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	pg := &page{t: t, ctx: ctx, base: b.p.GatewayURL, shot: b.shots, console: w}
	// What every order page may cause by design, and nothing more.
	pg.expect(`/api/v1/orders/[0-9a-f-]+/timeline$`, 501, "a gateway without the timeline (or serveTimeline playing one) answers 501: the page falls back")
	pg.expect(`/api/v1/orders/[0-9a-f-]+/timeline$`, 404, "right after checkout the saga may not know the order yet: the page falls back")
	pg.expect(`/api/v1/[^?]+\?(.*&)?min_position=`, 503, "read-your-writes: the read model is not caught up; readFresh waits and retries")
	return pg
}

// consoleWatch collects what a tab reports as an error: console.error and
// console.assert calls, uncaught exceptions (and unhandled rejections), and
// browser log entries of level error — which include every HTTP answer
// >= 400 to the page's own requests ("Failed to load resource: the server
// responded with a status of 404"), so a test that causes one on purpose
// must say which (expect), by URL and status, and nothing else passes.
type consoleWatch struct {
	mu       sync.Mutex
	seen     []consoleError
	expected []expectedHTTP
}

type consoleError struct {
	text   string
	url    string // the failed request's, for network entries
	status int    // its HTTP status, for network entries
}

// expectedHTTP is an error answer a test causes on purpose.
type expectedHTTP struct {
	url    *regexp.Regexp // matched against the whole request URL
	status int
	why    string
}

var statusInLog = regexp.MustCompile(`status of (\d{3})`)

// listen runs on the tab's reading goroutine: it only records.
func (w *consoleWatch) listen(ev any) {
	var e consoleError
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError && ev.Type != runtime.ConsoleAPICalledTypeAssert {
			return
		}
		e.text = "console." + string(ev.Type) + ": " + argsText(ev.Args)
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		e.text = "exception: " + d.Text
		if d.Exception != nil {
			e.text += " " + d.Exception.Description
		}
		e.url = d.URL
	case *log.EventEntryAdded:
		if ev.Entry == nil || ev.Entry.Level != log.EntryLevelError {
			return
		}
		e.text = "log " + string(ev.Entry.Source) + ": " + ev.Entry.Text
		e.url = ev.Entry.URL
		if m := statusInLog.FindStringSubmatch(ev.Entry.Text); m != nil && ev.Entry.Source == log.EntrySourceNetwork {
			e.status, _ = strconv.Atoi(m[1])
		}
	default:
		return
	}
	w.mu.Lock()
	w.seen = append(w.seen, e)
	w.mu.Unlock()
}

func argsText(args []*runtime.RemoteObject) string {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		if len(a.Value) > 0 {
			parts = append(parts, string(a.Value))
		} else {
			parts = append(parts, a.Description)
		}
	}
	return strings.Join(parts, " ")
}

// expect allows an HTTP error answer to requests whose URL matches the
// regular expression, with that status only.
func (p *page) expect(urlRE string, status int, why string) {
	p.console.mu.Lock()
	defer p.console.mu.Unlock()
	p.console.expected = append(p.console.expected, expectedHTTP{regexp.MustCompile(urlRE), status, why})
}

func (w *consoleWatch) check(t *testing.T) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, e := range w.seen {
		if x, ok := w.allowed(e); ok {
			t.Logf("expected console error (%s): %s %s", x.why, e.text, e.url)
			continue
		}
		t.Errorf("unexpected console error: %s (url %q)", e.text, e.url)
	}
}

func (w *consoleWatch) allowed(e consoleError) (expectedHTTP, bool) {
	if e.status == 0 {
		return expectedHTTP{}, false
	}
	for _, x := range w.expected {
		if x.status == e.status && x.url.MatchString(e.url) {
			return x, true
		}
	}
	return expectedHTTP{}, false
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

type widths struct {
	Scroll int      `json:"scroll"`
	Inner  int      `json:"inner"`
	Client int      `json:"client"` // the window less its vertical scroll bar
	Wide   []string `json:"wide"`
}

// fits fails the test when the page is wider than the window (it would
// scroll sideways), naming the elements that stick out.
func (p *page) fits(what string) {
	p.t.Helper()
	var r widths
	p.run(what+" fits", 5*time.Second, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		var err error
		r, err = chromedp.Evaluate[widths](`(() => {
			const w = document.documentElement.clientWidth;
			const wide = [...document.querySelectorAll("body *")].filter((e) => e.getBoundingClientRect().right > w + 0.5)
				.slice(0, 8).map((e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className && typeof e.className === "string" ? "." + e.className.trim().replace(/ +/g, ".") : "") + " right=" + Math.round(e.getBoundingClientRect().right));
			return { scroll: document.documentElement.scrollWidth, inner: window.innerWidth, client: document.documentElement.clientWidth, wide };
		})()`)(ctx, t)
		return err
	}))
	p.t.Logf("%s: page %d px wide, window %d (%d without the scroll bar)", what, r.Scroll, r.Inner, r.Client)
	// scrollWidth <= innerWidth is the rule; clientWidth is stricter, as
	// headless Chromium's scroll bar takes 15 px of a 360 px window.
	if r.Scroll > r.Inner || r.Scroll > r.Client || (p.width > 0 && r.Inner != p.width) {
		p.t.Errorf("%s: the page is %d px wide in a %d px window (%d without the scroll bar; screenshot %s); sticking out: %q",
			what, r.Scroll, r.Inner, r.Client, p.screenshot("overflow-"+slug(p.t.Name()+"-"+what)), r.Wide)
	}
}

// focused describes document.activeElement: whether it matches a
// selector, shows a focus ring, and has an accessible name.
type focused struct {
	Match   bool   `json:"match"`
	Desc    string `json:"desc"`
	Outline string `json:"outline"`
	Name    string `json:"name"`
}

// accessibleName is a JS function: the element's name as a screen reader
// would mostly find it (aria-label, aria-labelledby, its <label>s, its text).
const accessibleName = `(e) => (e.getAttribute("aria-label") ||
	(e.getAttribute("aria-labelledby") || "").split(" ").map((id) => document.getElementById(id)?.textContent || "").join(" ").trim() ||
	[...(e.labels || [])].map((l) => l.textContent).join(" ").trim() ||
	(["INPUT", "SELECT", "TEXTAREA"].includes(e.tagName) ? "" : e.textContent.trim()) || e.title || "")`

// tabTo presses Tab (at most n times) until the focus is on sel, and fails
// when a control on the way shows no focus ring or has no name.
func (p *page) tabTo(sel string, n int) {
	p.t.Helper()
	probe := fmt.Sprintf(`(() => { const e = document.activeElement, name = %s; const st = getComputedStyle(e);
		return { match: e.matches(%q), desc: e.outerHTML.slice(0, 120), outline: st.outlineStyle === "none" || parseFloat(st.outlineWidth) === 0 ? "" : st.outlineStyle + " " + st.outlineWidth + " " + st.outlineColor, name: name(e) }; })()`, accessibleName, sel)
	for i := 0; i < n; i++ {
		var f focused
		p.run("Tab towards "+sel, 5*time.Second, chromedp.KeyEvent("\t"), chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			var err error
			f, err = chromedp.Evaluate[focused](probe)(ctx, t)
			return err
		}))
		if f.Outline == "" {
			p.t.Errorf("the focus on %s is not visible", f.Desc)
		}
		if f.Name == "" {
			p.t.Errorf("the focused control %s has no accessible name", f.Desc)
		}
		if f.Match {
			return
		}
	}
	p.t.Fatalf("%d presses of Tab did not reach %s (screenshot %s)", n, sel, p.screenshot("failed-"+slug(p.t.Name()+"-tab")))
}

// unnamed lists the visible controls of the page that have no accessible
// name (a form field without a label, a button without text).
func (p *page) unnamed(what string) {
	p.t.Helper()
	var bad []string
	p.run("names on "+what, 5*time.Second, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		var err error
		bad, err = chromedp.Evaluate[[]string](fmt.Sprintf(`(() => { const name = %s;
			return [...document.querySelectorAll("input, select, textarea, button, a[href], summary, [tabindex]:not([tabindex='-1'])")]
				.filter((e) => e.getClientRects().length > 0 && !name(e)).map((e) => e.outerHTML.slice(0, 120)); })()`, accessibleName))(ctx, t)
		return err
	}))
	if len(bad) > 0 {
		p.t.Errorf("%s: controls without a name: %q", what, bad)
	}
}
