package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	// browserInstallHint tells how to get what the browser test needs.
	browserInstallHint = "run `make test` from the repository root (it installs the pinned npm packages and Chromium), " +
		"or `make conformance-deps browser-deps`"
	// browserScriptTimeout is the script's own timeout (chat_browser.cjs);
	// the process is killed if it outlives it by browserKillGrace.
	browserScriptTimeout = 60 * time.Second
	browserKillGrace     = 10 * time.Second
)

// chromiumPath is the browser the test drives: Debian's chromium, or
// $GOSIO_CHROMIUM.
func chromiumPath() string {
	if p := os.Getenv("GOSIO_CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// requireBrowser fails t, never skips, unless node, Chromium, the pinned
// playwright-core and the pinned browser build of socket.io-client are all
// there: a machine that cannot run the browser test must not pass it.
func requireBrowser(t *testing.T) (node, clientDir string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("browser test: node not found on PATH (%v): install Node.js 20 or newer, then %s", err, browserInstallHint)
	}
	if _, err := os.Stat(chromiumPath()); err != nil {
		t.Fatalf("browser test: Chromium not found (%v): %s; on Debian/Ubuntu `apt-get install -y chromium` as root", err, browserInstallHint)
	}
	var lock struct {
		Packages map[string]struct {
			Version string `json:"version"`
		} `json:"packages"`
	}
	b, err := os.ReadFile("../../conformance/package-lock.json")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &lock), "conformance/package-lock.json")
	for _, pkg := range []string{"playwright-core", "socket.io-client"} {
		pinned := lock.Packages["node_modules/"+pkg].Version
		if pinned == "" {
			t.Fatalf("browser test: conformance/package-lock.json does not pin %s", pkg)
		}
		var installed struct {
			Version string `json:"version"`
		}
		b, err := os.ReadFile(filepath.Join("../../conformance/node_modules", pkg, "package.json"))
		if errors.Is(err, os.ErrNotExist) {
			t.Fatalf("browser test: npm package %s is not installed in conformance/node_modules: %s", pkg, browserInstallHint)
		}
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(b, &installed))
		if installed.Version != pinned {
			t.Fatalf("browser test: %s %s is installed but conformance/package-lock.json pins %s: %s", pkg, installed.Version, pinned, browserInstallHint)
		}
	}
	clientDir, err = filepath.Abs("../../conformance/node_modules/socket.io-client/dist")
	require.NoError(t, err)
	if _, err := os.Stat(filepath.Join(clientDir, "socket.io.min.js")); err != nil {
		t.Fatalf("browser test: %v: %s", err, browserInstallHint)
	}
	return node, clientDir
}

// browserRun is what chat_browser.cjs observed.
type browserRun struct {
	OK             bool     `json:"ok"`
	Step           string   `json:"step"`
	Error          string   `json:"error"`
	Screenshot     string   `json:"screenshot"`
	ScreenshotSize int      `json:"screenshotBytes"`
	Browser        string   `json:"browser"`
	Offsite        []string `json:"offsite"`
	PageErrors     []string `json:"pageErrors"`
	HTTPErrors     []string `json:"httpErrors"`
	Transport      string   `json:"transport"`
	Members        string   `json:"members"`
	Chat           struct {
		Alice, Bob []string
	} `json:"chat"`
	Typing struct {
		Text     string `json:"text"`
		Attempts int    `json:"attempts"`
		BobOwn   string `json:"bobOwn"`
	} `json:"typing"`
	Image struct {
		Bytes int        `json:"bytes"`
		Alice shownImage `json:"alice"`
		Bob   shownImage `json:"bob"`
	} `json:"image"`
	Left struct {
		Notice  string `json:"notice"`
		Members string `json:"members"`
	} `json:"left"`
	AliceLog  []string `json:"aliceLog"`
	ElapsedMs int      `json:"elapsedMs"`
}

// shownImage is an <img> of the message list, once loaded.
type shownImage struct {
	NaturalWidth  int    `json:"naturalWidth"`
	NaturalHeight int    `json:"naturalHeight"`
	Scheme        string `json:"scheme"`
	Alt           string `json:"alt"`
	From          string `json:"from"`
}

// TestBrowser runs the chat page in two tabs of a real headless Chromium
// (examples/chat/browsertest/chat_browser.cjs, with playwright-core):
// join, chat, typing indicator, an image, leaving.
func TestBrowser(t *testing.T) {
	node, clientDir := requireBrowser(t)

	srv, h, err := newHandler(clientDir, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	ts := httptest.NewUnstartedServer(h)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	_ = ts.Listener.Close()
	ts.Listener = ln
	ts.Start()
	t.Cleanup(func() {
		_ = srv.Close()
		ts.CloseClientConnections()
		ts.Close()
	})

	shot := filepath.Join(t.TempDir(), "chat-alice.png")
	if dir := os.Getenv("GOSIO_ARTIFACTS"); dir != "" {
		require.NoError(t, os.MkdirAll(dir, 0o755))
		shot = filepath.Join(dir, "chat-alice.png")
	}

	ctx, cancel := context.WithTimeout(t.Context(), browserScriptTimeout+browserKillGrace)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("browsertest", "chat_browser.cjs"), ts.URL+"/", shot)
	cmd.Env = append(os.Environ(), "GOSIO_CHROMIUM="+chromiumPath())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 2 * time.Second // don't wait for grandchildren holding the pipes
	start := time.Now()
	runErr := cmd.Run()
	elapsed := time.Since(start)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("node chat_browser.cjs (%v, %v):\n--- stderr ---\n%s--- stdout ---\n%s", elapsed.Round(time.Millisecond), runErr, stderr.String(), stdout.String())
		}
	})
	if ctx.Err() != nil {
		t.Fatalf("chat_browser.cjs killed after %v: its own timeout did not fire", browserScriptTimeout+browserKillGrace)
	}
	out := strings.TrimSpace(stdout.String())
	if i := strings.LastIndexByte(out, '\n'); i >= 0 {
		out = out[i+1:]
	}
	var run browserRun
	require.NoError(t, json.Unmarshal([]byte(out), &run), "chat_browser.cjs result: %q", out)
	t.Logf("Chromium %s, %v; screenshot of alice's tab: %s", run.Browser, elapsed.Round(time.Millisecond), run.Screenshot)
	if os.Getenv("GOSIO_ARTIFACTS") == "" {
		t.Logf("(set GOSIO_ARTIFACTS to a directory to keep the screenshot)")
	}
	require.Truef(t, run.OK, "failed at step %q: %s", run.Step, run.Error)
	require.NoError(t, runErr)

	assert.Empty(t, run.Offsite, "requests off the chat server (the page must load the pinned client from it)")
	assert.Empty(t, run.PageErrors, "uncaught errors in the page")
	assert.Empty(t, run.HTTPErrors)
	assert.Equal(t, "websocket", run.Transport, "upgraded from polling")
	assert.Equal(t, "in #go: alice, bob", run.Members)

	for who, lines := range map[string][]string{"alice": run.Chat.Alice, "bob": run.Chat.Bob} {
		if assert.Lenf(t, lines, 1, "%s's tab", who) {
			assert.Regexpf(t, `^\d\d:\d\d( [AP]M)?alice: hello from alice$`, lines[0], "%s's tab", who)
		}
	}

	assert.Equal(t, "bob is typing…", run.Typing.Text)
	assert.Empty(t, run.Typing.BobOwn, "bob sees himself typing")

	for who, img := range map[string]shownImage{"alice": run.Image.Alice, "bob": run.Image.Bob} {
		assert.Equalf(t, shownImage{NaturalWidth: 48, NaturalHeight: 32, Scheme: "blob:", Alt: "flag.png", From: "bob: "}, img, "image in %s's tab", who)
	}

	assert.Equal(t, "bob left", run.Left.Notice)
	assert.Equal(t, "in #go: alice", run.Left.Members)
	if assert.NotEmpty(t, run.AliceLog) {
		assert.Equal(t, "bob left", run.AliceLog[len(run.AliceLog)-1])
	}

	assert.Equal(t, shot, run.Screenshot)
	png, err := os.ReadFile(shot)
	require.NoError(t, err, "screenshot")
	assert.Equal(t, run.ScreenshotSize, len(png))
	assert.True(t, bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")), "screenshot is not a PNG")
}
