package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosio/gosio/examples/chat/chatapp"
	"github.com/gosio/gosio/socketio"

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
	Recovery struct {
		Cut struct {
			ID     string `json:"id"`
			Reason string `json:"reason"`
		} `json:"cut"`
		Before, After struct {
			Connects  string `json:"connects"`
			SID       string `json:"sid"`
			Recovered string `json:"recovered"`
		}
		ConnectsAfterSends     int      `json:"connectsAfterSends"`
		BobTransportAfterSends string   `json:"bobTransportAfterSends"`
		BobMessages            []string `json:"bobMessages"`
		AliceMessages          []string `json:"aliceMessages"`
		BobNotices             []string `json:"bobNotices"`
		BobMembers             string   `json:"bobMembers"`
		AliceMembers           string   `json:"aliceMembers"`
		AliceNotices           []string `json:"aliceNotices"`
	} `json:"recovery"`
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
// join, chat, typing indicator, an image, a connection cut by the server
// and recovered (connection state recovery), leaving.
func TestBrowser(t *testing.T) {
	node, clientDir := requireBrowser(t)

	srv, h, err := chatapp.NewHandler(&chatapp.Options{ClientDir: clientDir, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	cuts := newCutter(srv)
	mux := http.NewServeMux()
	mux.Handle("/", cuts.gate(h))
	mux.HandleFunc("POST /test/cut", cuts.serveHTTP)        // test only
	mux.HandleFunc("POST /test/release", cuts.serveRelease) // test only
	ts := httptest.NewUnstartedServer(mux)
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

	// Connection state recovery, as bob's tab saw it.
	rec := run.Recovery
	t.Logf("recovery: cut %s (%s); bob's transport while alice sent: %q; bob's tab after: %+v; server saw: %v",
		rec.Cut.ID, rec.Cut.Reason, rec.BobTransportAfterSends, rec.After, cuts.connections())
	require.NotEmpty(t, rec.Before.SID)
	assert.Equal(t, rec.Before.SID, rec.Cut.ID, "the endpoint cut bob's socket")
	assert.Equal(t, "forced close", rec.Cut.Reason, "the server-side disconnect reason")
	assert.Equal(t, "1", rec.Before.Connects)
	assert.Equal(t, "false", rec.Before.Recovered)
	assert.Equal(t, 1, rec.ConnectsAfterSends, "bob had not reconnected while alice sent m1 to m3 (transport: %s)", rec.BobTransportAfterSends)
	assert.Equal(t, "2", rec.After.Connects)
	assert.Equal(t, "true", rec.After.Recovered, "socket.recovered")
	assert.Equal(t, rec.Before.SID, rec.After.SID, "bob's socket id")
	assert.Equal(t, []string{"m1", "m2", "m3"}, rec.BobMessages, "bob's tab: each missed message once, in order")
	assert.Equal(t, []string{"m1", "m2", "m3"}, rec.AliceMessages)
	assert.Equal(t, []string{"you joined #go", "disconnected: transport close", "reconnected"}, rec.BobNotices,
		"bob's tab: no second join, and not told that he left")
	assert.Equal(t, "in #go: alice, bob", rec.BobMembers)
	assert.Equal(t, "in #go: alice, bob", rec.AliceMembers)
	assert.Equal(t, []string{"bob joined", "bob left", "bob joined"}, rec.AliceNotices, "alice sees bob go and come back")
	// As the server saw it: bob's first connection, then his recovered
	// one, same id (alice's, not recovered, aside).
	assert.Equal(t, []connection{{rec.Before.SID, false}, {rec.Before.SID, true}}, cuts.connectionsOf(rec.Before.SID))
	assert.Len(t, cuts.connections(), 3, "alice once, bob twice: %v", cuts.connections())

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

// cutter serves the test-only endpoint POST /test/cut?nick=bob, which
// closes the connection of the member nick server-side (a recoverable
// disconnect reason) and answers once the server has disconnected the
// socket, its session kept for recovery; and it records every connection
// the server accepts. Never part of the example's own handler.
type cutter struct {
	srv *socketio.Server

	mu    sync.Mutex
	conns []connection
	gone  map[string]chan socketio.Reason // socket id → its disconnect reason
	held  chan struct{}                   // non-nil from a cut to its release
}

// gate holds new Engine.IO handshakes (no sid) from a cut until the
// script releases them (at most 10 s), so that the messages sent meanwhile
// are certainly missed and replayed, whatever the machine's pace.
func (c *cutter) gate(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/socket.io/") && r.URL.Query().Get("sid") == "" {
			c.mu.Lock()
			held := c.held
			c.mu.Unlock()
			if held != nil {
				select {
				case <-held:
				case <-time.After(10 * time.Second):
				}
			}
		}
		h.ServeHTTP(w, r)
	})
}

// serveRelease lets held handshakes through (POST /test/release).
func (c *cutter) serveRelease(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	if c.held != nil {
		close(c.held)
		c.held = nil
	}
	c.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// connection is a socket the server accepted.
type connection struct {
	ID        string
	Recovered bool
}

func newCutter(srv *socketio.Server) *cutter {
	c := &cutter{srv: srv, gone: map[string]chan socketio.Reason{}}
	// Registered after the chat's handlers: they run after them.
	srv.OnConnection(func(_ context.Context, s *socketio.Socket) error {
		c.mu.Lock()
		c.conns = append(c.conns, connection{s.ID(), s.Recovered()})
		c.mu.Unlock()
		return nil
	})
	srv.OnDisconnect(func(s *socketio.Socket, reason socketio.Reason) {
		c.mu.Lock()
		ch := c.gone[s.ID()]
		delete(c.gone, s.ID())
		c.mu.Unlock()
		if ch != nil {
			ch <- reason
		}
	})
	return c
}

func (c *cutter) connections() []connection {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.conns)
}

func (c *cutter) connectionsOf(id string) []connection {
	return slices.DeleteFunc(c.connections(), func(cn connection) bool { return cn.ID != id })
}

func (c *cutter) serveHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	if c.held == nil {
		c.held = make(chan struct{})
	}
	c.mu.Unlock()
	nick := r.URL.Query().Get("nick")
	var target *socketio.Socket
	for _, s := range c.srv.Of("/").Sockets() {
		if m, ok := chatapp.MemberOf(s); ok && m.Nick == nick {
			target = s
			break
		}
	}
	if target == nil {
		http.Error(w, "no member "+strconv.Quote(nick), http.StatusNotFound)
		return
	}
	done := make(chan socketio.Reason, 1)
	c.mu.Lock()
	c.gone[target.ID()] = done
	c.mu.Unlock()
	_ = target.Conn().Close()
	select {
	case reason := <-done:
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"id": target.ID(), "reason": string(reason)})
	case <-time.After(5 * time.Second):
		http.Error(w, "socket not disconnected after 5s", http.StatusGatewayTimeout)
	}
}
