package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/gosio/adapter/nats/natsembed"
	"github.com/gosio/gosio/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// deadline bounds every wait of these tests.
const deadline = 10 * time.Second

// startServer runs run with env (PORT defaults to 0) until the test ends
// and returns the address it listens on.
func startServer(t *testing.T, env map[string]string) string {
	t.Helper()
	if _, ok := env["PORT"]; !ok {
		env["PORT"] = "0"
	}
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, func(k string) string { return env[k] }, slog.New(slog.DiscardHandler), func(addr string) { addrc <- addr })
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-errc:
			assert.NoError(t, err, "run")
		case <-time.After(2 * deadline):
			t.Error("run did not return after its context ended")
		}
	})
	select {
	case addr := <-addrc:
		return addr
	case err := <-errc:
		t.Fatalf("run: %v", err)
	case <-time.After(deadline):
		t.Fatal("server not listening in time")
	}
	panic("unreachable")
}

// client is a minimal Socket.IO v5 client over a raw Engine.IO v4
// WebSocket, connected to the main namespace.
type client struct {
	t    *testing.T
	conn *websocket.Conn
	id   int // last ack id used
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/socket.io/?EIO=4&transport=websocket", nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	c := &client{t: t, conn: conn}
	open := c.readEngine()
	require.True(t, strings.HasPrefix(open, `0{"sid":"`), open)
	c.sendText("0")
	ans := c.read()
	require.True(t, strings.HasPrefix(ans, `0{"sid":"`), ans)
	return c
}

// sendText sends one Socket.IO text frame.
func (c *client) sendText(frame string) {
	c.t.Helper()
	require.NoError(c.t, c.conn.WriteMessage(websocket.TextMessage, []byte("4"+frame)))
}

// emit sends the event [args...] (args: JSON texts) without asking for
// an ack.
func (c *client) emit(event string, args ...string) {
	c.t.Helper()
	c.sendText("2" + eventArray(event, args))
}

// emitAck sends the event asking for an ack, and returns the ack id.
func (c *client) emitAck(event string, args ...string) int {
	c.t.Helper()
	c.id++
	c.sendText("2" + strconv.Itoa(c.id) + eventArray(event, args))
	return c.id
}

func eventArray(event string, args []string) string {
	return "[" + strconv.Quote(event) + strings.Join(append([]string{""}, args...), ",") + "]"
}

// readEngine returns the next Engine.IO message; binary ones as
// "bin:"+data.
func (c *client) readEngine() string {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(deadline))
	op, b, err := c.conn.ReadMessage()
	require.NoError(c.t, err)
	if op == websocket.BinaryMessage {
		return "bin:" + string(b)
	}
	return string(b)
}

// read returns the next Socket.IO frame (without the Engine.IO "4"), or
// "bin:"+data for a binary attachment; pings are answered and skipped.
func (c *client) read() string {
	c.t.Helper()
	for range 100 {
		m := c.readEngine()
		switch {
		case m == "2":
			require.NoError(c.t, c.conn.WriteMessage(websocket.TextMessage, []byte("3")))
		case strings.HasPrefix(m, "4"):
			return m[1:]
		case strings.HasPrefix(m, "bin:"):
			return m
		default:
			c.t.Fatalf("unexpected Engine.IO message %q", m)
		}
	}
	c.t.Fatal("only pings")
	return ""
}

// expect asserts that the next frame is want.
func (c *client) expect(want string) {
	c.t.Helper()
	require.Equal(c.t, want, c.read())
}

// expectTicks asserts that the next n frames are ticks of size x's.
func (c *client) expectTicks(n, size int) {
	c.t.Helper()
	want := `2["tick","` + strings.Repeat("x", size) + `"]`
	for i := range n {
		got := c.read()
		if got != want {
			c.t.Fatalf("frame %d of %d: got %.80q, want a tick of %d x's", i+1, n, got, size)
		}
	}
}

// sync asks for an echo and asserts that its ack is the next frame: what
// the server sent this client before, it has been read.
func (c *client) sync() {
	c.t.Helper()
	id := c.emitAck("bench:echo", `"sync"`)
	c.expect(fmt.Sprintf(`3%d["sync"]`, id))
}

// expectClosed reads until the server closes the WebSocket, cleanly.
func (c *client) expectClosed() {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(deadline))
	for range 100 {
		_, _, err := c.conn.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			require.ErrorAs(c.t, err, &ce, "the connection must end with a close frame")
			return
		}
	}
	c.t.Fatal("connection not closed")
}

// use makes clients report to the subtest t until it ends, so that a
// failure ends that subtest, not its parent.
func use(t *testing.T, clients ...*client) {
	for _, c := range clients {
		parent := c.t
		c.t = t
		t.Cleanup(func() { c.t = parent })
	}
}

func ackFrame(id int, data string) string { return fmt.Sprintf("3%d%s", id, data) }

func TestEcho(t *testing.T) {
	c := dial(t, startServer(t, map[string]string{}))

	t.Run("exact arguments", func(t *testing.T) {
		use(t, c)
		// Key order, number spelling, escapes and nesting come back as sent.
		args := []string{`{"b":1,"a":[1.0,1e2,"\u00e9\n"],"_placeholder":"text"}`, `null`, `"s"`, `-0`, `[]`, `{}`, `true`}
		id := c.emitAck("bench:echo", args...)
		c.expect(ackFrame(id, "["+strings.Join(args, ",")+"]"))
	})
	t.Run("no arguments", func(t *testing.T) {
		id := c.emitAck("bench:echo")
		c.expect(ackFrame(id, "[]"))
	})
	t.Run("no ack asked, none sent", func(t *testing.T) {
		use(t, c)
		c.emit("bench:echo", `"quiet"`)
		c.sync()
	})
	t.Run("binary attachments", func(t *testing.T) {
		bin0, bin1 := []byte{0, 1, 2, 255}, []byte("second\x00")
		// Attachments numbered out of order, nested, beside JSON that
		// looks like a placeholder and an escaped member name.
		c.id++
		c.sendText(fmt.Sprintf(`52-%d["bench:echo",{"z":[1,{"_placeholder":true,"num":1}],"a":{"\u0061":2}},{"_placeholder":true,"num":0},{"_placeholder":false,"num":0}]`, c.id))
		require.NoError(t, c.conn.WriteMessage(websocket.BinaryMessage, bin0))
		require.NoError(t, c.conn.WriteMessage(websocket.BinaryMessage, bin1))
		// Renumbered in order of appearance: bin1 is now the first.
		c.expect(fmt.Sprintf(`62-%d[{"z":[1,{"_placeholder":true,"num":0}],"a":{"\u0061":2}},{"_placeholder":true,"num":1},{"_placeholder":false,"num":0}]`, c.id))
		c.expect("bin:" + string(bin1))
		c.expect("bin:" + string(bin0))
	})
	t.Run("binary without ack", func(t *testing.T) {
		use(t, c)
		c.sendText(`51-["bench:echo",{"_placeholder":true,"num":0}]`)
		require.NoError(t, c.conn.WriteMessage(websocket.BinaryMessage, []byte{7}))
		c.sync()
	})
}

func TestBroadcast(t *testing.T) {
	addr := startServer(t, map[string]string{})
	a, b, c := dial(t, addr), dial(t, addr), dial(t, addr)

	for _, tc := range []struct{ count, size int }{{5, 7}, {1, 0}, {2, 100_000}, {1, maxSize}} {
		t.Run(fmt.Sprintf("count=%d size=%d", tc.count, tc.size), func(t *testing.T) {
			use(t, a, b, c)
			id := a.emitAck("bench:broadcast", fmt.Sprintf(`{"count":%d,"size":%d}`, tc.count, tc.size))
			// The sender gets its ticks, then the ack: the loop is done.
			a.expectTicks(tc.count, tc.size)
			a.expect(ackFrame(id, fmt.Sprintf(`[{"count":%d}]`, tc.count)))
			for _, cl := range []*client{b, c} {
				cl.expectTicks(tc.count, tc.size)
				cl.sync() // and not one more
			}
		})
	}
	t.Run("count=0", func(t *testing.T) {
		use(t, a, b, c)
		id := b.emitAck("bench:broadcast", `{"size":3,"count":0}`)
		b.expect(ackFrame(id, `[{"count":0}]`))
		a.sync()
		c.sync()
	})
	t.Run("integral float and extra arguments", func(t *testing.T) {
		use(t, a, b, c)
		id := b.emitAck("bench:broadcast", `{"count":2.0,"size":3e0,"other":1}`, `"ignored"`)
		b.expectTicks(2, 3)
		b.expect(ackFrame(id, `[{"count":2}]`))
		a.expectTicks(2, 3)
		c.expectTicks(2, 3)
		a.sync()
		c.sync()
	})
	t.Run("no ack asked, none sent", func(t *testing.T) {
		use(t, a, b, c)
		c.emit("bench:broadcast", `{"count":3,"size":1}`)
		for _, cl := range []*client{a, b, c} {
			cl.expectTicks(3, 1)
			cl.sync()
		}
	})
}

// TestSlowConsumer checks the memory bound of the emit loop: a client
// that reads nothing is disconnected once its send queue would pass
// engineio's MaxBufferedBytes (8 MiB), while the others get every tick.
func TestSlowConsumer(t *testing.T) {
	addr := startServer(t, map[string]string{})
	sender, idle := dial(t, addr), dial(t, addr)
	// 32 MiB: more than the queue bound plus what the kernel's socket
	// buffers can hold for a reader that does not read.
	const count = 32
	id := sender.emitAck("bench:broadcast", fmt.Sprintf(`{"count":%d,"size":%d}`, count, maxSize))
	sender.expectTicks(count, maxSize)
	sender.expect(ackFrame(id, fmt.Sprintf(`[{"count":%d}]`, count)))

	want := `42["tick","` + strings.Repeat("x", maxSize) + `"]`
	ticks := 0
	_ = idle.conn.SetReadDeadline(time.Now().Add(deadline))
	for range count + 1 {
		_, b, err := idle.conn.ReadMessage()
		if err != nil {
			var ne net.Error
			require.False(t, errors.As(err, &ne) && ne.Timeout(), "the idle client was not disconnected: %v", err)
			break
		}
		require.Equal(t, want, string(b))
		ticks++
	}
	assert.Less(t, ticks, count, "the idle client got every tick: it was not cut")
	sender.sync() // the sender is still served
}

// TestPolling checks that HTTP long-polling is served too.
func TestPolling(t *testing.T) {
	addr := startServer(t, map[string]string{})
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{Transport: tr, Timeout: deadline}
	base := "http://" + addr + "/socket.io/?EIO=4&transport=polling"
	get := func(url string) string {
		t.Helper()
		res, err := hc.Get(url)
		require.NoError(t, err)
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, res.StatusCode, "%s", b)
		return string(b)
	}
	post := func(url, body string) {
		t.Helper()
		res, err := hc.Post(url, "text/plain;charset=UTF-8", strings.NewReader(body))
		require.NoError(t, err)
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, res.StatusCode, "%s", b)
	}
	open := get(base)
	m := regexp.MustCompile(`^0\{"sid":"([^"]+)"`).FindStringSubmatch(open)
	require.NotNil(t, m, open)
	sess := base + "&sid=" + m[1]
	// until polls until the packet last arrives and returns every packet
	// received.
	until := func(last string) []string {
		t.Helper()
		var got []string
		for range 100 {
			got = append(got, strings.Split(get(sess), "\x1e")...)
			if got[len(got)-1] == last {
				return got
			}
		}
		t.Fatalf("%q never came; got %q", last, got)
		return nil
	}
	post(sess, "40")
	require.True(t, strings.HasPrefix(get(sess), `40{"sid":"`))
	post(sess, `421["bench:echo","over polling",{"n":1}]`)
	assert.Equal(t, []string{`431["over polling",{"n":1}]`}, until(`431["over polling",{"n":1}]`))
	post(sess, `422["bench:broadcast",{"count":2,"size":3}]`)
	assert.Equal(t, []string{`42["tick","xxx"]`, `42["tick","xxx"]`, `432[{"count":2}]`}, until(`432[{"count":2}]`))
	post(sess, "1") // Engine.IO close: the session ends now
}

func TestRoom(t *testing.T) {
	addr := startServer(t, map[string]string{})
	a, b, c := dial(t, addr), dial(t, addr), dial(t, addr)

	id := a.emitAck("bench:join", `"r1"`)
	a.expect(ackFrame(id, `["r1"]`))
	id = b.emitAck("bench:join", `"r1"`)
	b.expect(ackFrame(id, `["r1"]`))
	c.emit("bench:join", `"r2"`) // no ack asked: none sent
	c.sync()

	// A non-member sends to r1: the members get the ticks, the sender
	// only its ack.
	id = c.emitAck("bench:room", `{"room":"r1","count":3,"size":2}`)
	c.expect(ackFrame(id, `[{"count":3}]`))
	a.expectTicks(3, 2)
	b.expectTicks(3, 2)
	a.sync()
	b.sync()

	// r2 holds c only.
	id = a.emitAck("bench:room", `{"count":2,"size":4,"room":"r2"}`)
	a.expect(ackFrame(id, `[{"count":2}]`))
	c.expectTicks(2, 4)
	c.sync()
	b.sync()

	// After leaving, b gets nothing; a member sender gets its own ticks.
	id = b.emitAck("bench:leave", `"r1"`)
	b.expect(ackFrame(id, `["r1"]`))
	c.emit("bench:leave", `"r2"`)
	c.sync()
	id = a.emitAck("bench:room", `{"room":"r1","count":2,"size":1}`)
	a.expectTicks(2, 1)
	a.expect(ackFrame(id, `[{"count":2}]`))
	b.sync()
	id = b.emitAck("bench:room", `{"room":"r2","count":5,"size":1}`)
	b.expect(ackFrame(id, `[{"count":5}]`))
	c.sync()

	// Without ack.
	b.emit("bench:room", `{"room":"r1","count":1,"size":3}`)
	a.expectTicks(1, 3)
	a.sync()
	b.sync()
}

func TestInvalidPayloads(t *testing.T) {
	addr := startServer(t, map[string]string{})
	c, other := dial(t, addr), dial(t, addr)
	id := other.emitAck("bench:join", `"r"`)
	other.expect(ackFrame(id, `["r"]`))

	errFrame := func(msg string) string { return `[{"error":"` + msg + `"}]` }
	for _, tc := range []struct {
		name  string
		event string
		args  []string
		want  string
	}{
		{"no payload", "bench:broadcast", nil, errPayload},
		{"string", "bench:broadcast", []string{`"x"`}, errPayload},
		{"null", "bench:broadcast", []string{`null`}, errPayload},
		{"array", "bench:broadcast", []string{`[1,2]`}, errPayload},
		{"number", "bench:room", []string{`5`}, errPayload},
		{"count missing", "bench:broadcast", []string{`{"size":1}`}, errCount},
		{"count in capitals", "bench:broadcast", []string{`{"COUNT":1,"size":1}`}, errCount},
		{"count negative", "bench:broadcast", []string{`{"count":-1,"size":1}`}, errCount},
		{"count too large", "bench:broadcast", []string{`{"count":1000001,"size":1}`}, errCount},
		{"count not integral", "bench:broadcast", []string{`{"count":1.5,"size":1}`}, errCount},
		{"count string", "bench:broadcast", []string{`{"count":"5","size":1}`}, errCount},
		{"count null", "bench:broadcast", []string{`{"count":null,"size":1}`}, errCount},
		{"count overflow", "bench:broadcast", []string{`{"count":1e400,"size":1}`}, errCount},
		{"count duplicate, last wins", "bench:broadcast", []string{`{"count":1,"count":-1,"size":1}`}, errCount},
		{"size missing", "bench:broadcast", []string{`{"count":1}`}, errSize},
		{"size too large", "bench:broadcast", []string{`{"count":1,"size":1048577}`}, errSize},
		{"size negative", "bench:broadcast", []string{`{"count":1,"size":-2}`}, errSize},
		{"both wrong: count first", "bench:broadcast", []string{`{"count":-1,"size":-1}`}, errCount},
		{"room missing", "bench:room", []string{`{"count":1,"size":1}`}, errRoom},
		{"room number", "bench:room", []string{`{"room":1,"count":1,"size":1}`}, errRoom},
		{"room first", "bench:room", []string{`{"room":null,"count":-1,"size":1}`}, errRoom},
		{"room count", "bench:room", []string{`{"room":"r","count":2e6,"size":1}`}, errCount},
		{"room size", "bench:room", []string{`{"room":"r","count":1,"size":"1"}`}, errSize},
		{"join number", "bench:join", []string{`5`}, errRoom},
		{"join nothing", "bench:join", nil, errRoom},
		{"leave object", "bench:leave", []string{`{"room":"r"}`}, errRoom},
	} {
		t.Run(tc.name, func(t *testing.T) {
			use(t, c, other)
			id := c.emitAck(tc.event, tc.args...)
			c.expect(ackFrame(id, errFrame(tc.want)))
			// Without ack: nothing at all.
			c.emit(tc.event, tc.args...)
			c.sync()
			other.sync() // no tick reached anyone
		})
	}
}

func TestParsePort(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"", defaultPort, true},
		{"0", 0, true},
		{"3001", 3001, true},
		{"65535", 65535, true},
		{"abc", 0, false},
		{"3000x", 0, false},
		{"-1", 0, false},
		{"65536", 0, false},
		{" 3000", 0, false},
		{"+3000", 0, false},
		{"3e3", 0, false},
	} {
		got, err := parsePort(tc.in)
		if !tc.ok {
			assert.Error(t, err, "PORT=%q", tc.in)
			continue
		}
		if assert.NoError(t, err, "PORT=%q", tc.in) {
			assert.Equal(t, tc.want, got, "PORT=%q", tc.in)
		}
	}

	// run refuses it before opening anything.
	readyCalled := false
	err := run(context.Background(), func(k string) string {
		if k == "PORT" {
			return "http"
		}
		return ""
	}, slog.New(slog.DiscardHandler), func(string) { readyCalled = true })
	require.Error(t, err)
	assert.Contains(t, err.Error(), `PORT="http"`)
	assert.False(t, readyCalled)
}

// TestNATSUnreachable checks that a NATS_URL where no NATS listens stops
// the start at once, with an error, instead of serving alone.
func TestNATSUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	url := "nats://" + ln.Addr().String()
	require.NoError(t, ln.Close())
	env := map[string]string{"PORT": "0", "NATS_URL": url}
	readyCalled := false
	err = run(context.Background(), func(k string) string { return env[k] }, slog.New(slog.DiscardHandler), func(string) { readyCalled = true })
	require.Error(t, err)
	assert.Contains(t, err.Error(), url)
	assert.False(t, readyCalled)
}

func TestNATSCluster(t *testing.T) {
	bus, err := natsembed.Start(&natsembed.Options{Addr: "127.0.0.1:0"})
	require.NoError(t, err)
	t.Cleanup(bus.Shutdown) // after the servers (cleanups run last first)
	require.NotEmpty(t, bus.ClientURL())
	env := func() map[string]string {
		return map[string]string{"NATS_URL": bus.ClientURL(), "BENCH_NATS_PREFIX": "benchtest"}
	}
	addr1, addr2 := startServer(t, env()), startServer(t, env())
	require.NotEqual(t, addr1, addr2)
	a, b := dial(t, addr1), dial(t, addr2)

	t.Run("broadcast reaches both servers", func(t *testing.T) {
		use(t, a, b)
		id := a.emitAck("bench:broadcast", `{"count":3,"size":4}`)
		a.expectTicks(3, 4)
		a.expect(ackFrame(id, `[{"count":3}]`))
		b.expectTicks(3, 4)
		b.sync()

		id = b.emitAck("bench:broadcast", `{"count":2,"size":5}`)
		b.expectTicks(2, 5)
		b.expect(ackFrame(id, `[{"count":2}]`))
		a.expectTicks(2, 5)
		a.sync()
	})
	t.Run("room across servers", func(t *testing.T) {
		use(t, a, b)
		id := b.emitAck("bench:join", `"far"`)
		b.expect(ackFrame(id, `["far"]`))
		id = a.emitAck("bench:room", `{"room":"far","count":2,"size":3}`)
		a.expect(ackFrame(id, `[{"count":2}]`)) // a is not a member
		b.expectTicks(2, 3)
		b.sync()
	})
	t.Run("tick too large for NATS", func(t *testing.T) {
		use(t, a, b)
		// 1 MiB of x's does not fit in NATS's default 1 MB max_payload:
		// the local socket gets the tick, then the error.
		id := a.emitAck("bench:broadcast", fmt.Sprintf(`{"count":2,"size":%d}`, maxSize))
		a.expectTicks(1, maxSize)
		got := a.read()
		assert.True(t, strings.HasPrefix(got, ackFrame(id, `[{"error":"emit 1 of 2 failed: `)), "%.200s", got)
		a.sync()
		b.sync()
	})
}

// TestSignals runs the built command and stops it with a signal: it must
// exit 0, its clients told the server is going away.
func TestSignals(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "server")
	build := exec.Command("go", "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	bus, err := natsembed.Start(&natsembed.Options{Addr: "127.0.0.1:0"})
	require.NoError(t, err)
	t.Cleanup(bus.Shutdown)

	for _, tc := range []struct {
		name string
		sig  syscall.Signal
		nats bool
	}{
		{"SIGTERM", syscall.SIGTERM, false},
		{"SIGINT", syscall.SIGINT, false},
		{"SIGTERM with NATS", syscall.SIGTERM, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := []string{"PORT=0"}
			if tc.nats {
				env = append(env, "NATS_URL="+bus.ClientURL())
			}
			p := startProcess(t, bin, env)
			addr := p.waitListening()
			c := dial(t, addr)
			c.sync()

			require.NoError(t, p.cmd.Process.Signal(tc.sig))
			// The server closes its clients' connections.
			c.expectClosed()
			code, stderr := p.wait()
			t.Logf("stderr:\n%s", stderr)
			assert.Equal(t, 0, code, "exit status")
			assert.Contains(t, stderr, "msg=stopped")
			assert.NotContains(t, stderr, "level=WARN")
			assert.NotContains(t, stderr, "level=ERROR")
		})
	}

	t.Run("bad PORT", func(t *testing.T) {
		p := startProcess(t, bin, []string{"PORT=web"})
		code, stderr := p.wait()
		assert.Equal(t, 1, code, "exit status; stderr:\n%s", stderr)
		assert.Contains(t, stderr, `PORT=\"web\" is not a port number`)
	})
}

// process is a running bench server binary.
type process struct {
	t        *testing.T
	cmd      *exec.Cmd
	lines    chan string // stderr, line by line, until closed
	stderr   strings.Builder
	readDone chan struct{} // stderr read to its end
}

// startProcess starts bin with env added to the test's environment (minus
// the server's own variables).
func startProcess(t *testing.T, bin string, env []string) *process {
	t.Helper()
	cmd := exec.Command(bin)
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k != "PORT" && k != "NATS_URL" && k != "BENCH_NATS_PREFIX" {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	pipe, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	p := &process{t: t, cmd: cmd, lines: make(chan string, 1000), readDone: make(chan struct{})}
	go func() {
		defer close(p.readDone)
		defer close(p.lines)
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			select {
			case p.lines <- sc.Text():
			default: // nobody is looking for lines any more
			}
		}
		_, _ = io.Copy(io.Discard, pipe)
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil { // the test failed before wait
			_ = cmd.Process.Kill()
			<-p.readDone
			_ = cmd.Wait()
		}
	})
	return p
}

var listeningLine = regexp.MustCompile(`msg=listening addr=(127\.0\.0\.1:[0-9]+)`)

// waitListening returns the address of the "listening" log line.
func (p *process) waitListening() string {
	p.t.Helper()
	timeout := time.After(deadline)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				p.t.Fatalf("stderr ended before the listening line:\n%s", p.stderr.String())
			}
			p.stderr.WriteString(line + "\n")
			if m := listeningLine.FindStringSubmatch(line); m != nil {
				return m[1]
			}
		case <-timeout:
			p.t.Fatalf("no listening line in time:\n%s", p.stderr.String())
		}
	}
}

// wait waits, at most deadline, for the process to exit and returns its
// exit status and its stderr.
func (p *process) wait() (int, string) {
	p.t.Helper()
	timeout := time.After(deadline)
	for done := false; !done; {
		select {
		case line, ok := <-p.lines:
			if !ok {
				done = true
				break
			}
			p.stderr.WriteString(line + "\n")
		case <-timeout:
			p.t.Fatalf("process still running after %v:\n%s", deadline, p.stderr.String())
		}
	}
	<-p.readDone
	err := p.cmd.Wait()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		p.t.Fatalf("wait: %v", err)
	}
	return p.cmd.ProcessState.ExitCode(), p.stderr.String()
}
