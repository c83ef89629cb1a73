package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/gosio/internal/leakcheck"
	"github.com/gosio/gosio/internal/syncbuf"
)

// TestMain fails the package if any test leaves a goroutine behind.
func TestMain(m *testing.M) { leakcheck.Main(m) }

// recv returns the next value of ch, failing the test after waitTimeout.
func recv[T any](t testing.TB, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitTimeout):
		t.Fatal("timed out")
	}
	panic("unreachable")
}

// The command itself: built as users run it, it serves on the address it
// logs and exits with status 0 on SIGINT and on SIGTERM, with sessions
// open on both transports.
func TestCommandSignals(t *testing.T) {
	gotool, err := exec.LookPath("go")
	require.NoError(t, err, "the go tool is needed to build the command")
	exe := filepath.Join(t.TempDir(), "testserver")
	build := exec.Command(gotool, "build", "-o", exe, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*waitTimeout)
			defer cancel()
			cmd := exec.CommandContext(ctx, exe, "-addr", "127.0.0.1:0")
			cmd.WaitDelay = 2 * time.Second
			stderr, err := cmd.StderrPipe()
			require.NoError(t, err)
			require.NoError(t, cmd.Start())
			lines := make(chan string, 256)
			go func() {
				defer close(lines)
				sc := bufio.NewScanner(stderr)
				for sc.Scan() {
					lines <- sc.Text()
				}
			}()
			var logs []string
			defer func() {
				if t.Failed() {
					t.Logf("logs:\n%s", strings.Join(logs, "\n"))
				}
			}()
			listening := regexp.MustCompile(`msg="testserver: listening" addr=(127\.0\.0\.1:\d+)`)
			var addr string
			timeout := time.After(waitTimeout)
			for addr == "" {
				select {
				case l, ok := <-lines:
					require.True(t, ok, "the command exited before listening")
					logs = append(logs, l)
					if m := listening.FindStringSubmatch(l); m != nil {
						addr = m[1]
					}
				case <-timeout:
					t.Fatal("the command did not log its address in time")
				}
			}

			// It answers, on both paths; a WebSocket and a polling session
			// stay open until the signal.
			hc := &http.Client{Timeout: waitTimeout, Transport: &http.Transport{}}
			defer hc.CloseIdleConnections()
			res, err := hc.Get("http://" + addr + enginePath + "?" + pollingHandshake)
			require.NoError(t, err)
			body, err := io.ReadAll(res.Body)
			res.Body.Close()
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, res.StatusCode)
			openPacket(t, string(body), `["websocket"]`)
			ws, _, err := (&websocket.Dialer{HandshakeTimeout: waitTimeout}).Dial("ws://"+addr+socketPath+"?"+wsHandshake, nil)
			require.NoError(t, err)
			defer ws.Close()
			_, open, err := ws.ReadMessage()
			require.NoError(t, err)
			openPacket(t, string(open), `[]`)
			require.NoError(t, ws.WriteMessage(websocket.TextMessage, []byte("40")))
			// A well-behaved client: it answers pings and the server's
			// close frame (gorilla does while reading).
			wsDone := make(chan error, 1)
			go func() {
				for {
					_, m, err := ws.ReadMessage()
					if err != nil {
						wsDone <- err
						return
					}
					if string(m) == "2" {
						_ = ws.WriteMessage(websocket.TextMessage, []byte("3"))
					}
				}
			}()

			start := time.Now()
			require.NoError(t, cmd.Process.Signal(sig))
			for l := range lines {
				logs = append(logs, l)
			}
			require.NoError(t, cmd.Wait(), "exit status")
			assert.Less(t, time.Since(start), waitTimeout, "exit within 10 s")
			all := strings.Join(logs, "\n")
			assert.Contains(t, all, `msg="testserver: stopped"`)
			assert.NotContains(t, all, "level=ERROR")
			assert.NotContains(t, all, "level=WARN")
			var ce *websocket.CloseError
			assert.ErrorAs(t, recv(t, wsDone), &ce, "WebSocket closed by the server")
		})
	}
}

// -addr is validated: a busy port makes the command fail at once.
func TestRun_ListenError(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	err = run(context.Background(), busy.Addr().String(), logger)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "listen")
}

// run serves until its context is done, then returns nil.
func TestRun_StopsOnContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var buf syncbuf.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	done := make(chan error, 1)
	go func() { done <- run(ctx, "127.0.0.1:0", logger) }()
	deadline := time.Now().Add(waitTimeout)
	for !strings.Contains(buf.String(), "testserver: listening") {
		require.True(t, time.Now().Before(deadline), "not listening in time")
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	require.NoError(t, recv(t, done))
	assert.Contains(t, buf.String(), "testserver: stopped")
}
