package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/gosio/gosio/engineio"
)

// waitTimeout bounds every wait for something the server should do.
const waitTimeout = 10 * time.Second

// env is the command's handler behind an httptest.Server.
type env struct {
	t    testing.TB
	srv  *servers
	ts   *httptest.Server
	hc   *http.Client
	gets chan string // sid of every polling GET of a session, as it arrives
}

// newEnv starts the command's servers in-process, as run would, and
// shuts them down when the test ends.
func newEnv(t testing.TB) *env {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := newServers(logger)
	require.NoError(t, err)
	e := &env{t: t, srv: srv, gets: make(chan string, 256)}
	e.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sid := r.URL.Query().Get("sid"); sid != "" && r.Method == http.MethodGet && r.URL.Query().Get("transport") == "polling" {
			select {
			case e.gets <- sid:
			default:
			}
		}
		srv.ServeHTTP(w, r)
	}))
	tr := &http.Transport{MaxConnsPerHost: 32}
	e.hc = &http.Client{Transport: tr, Timeout: 30 * time.Second}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		require.NoError(t, srv.Shutdown(ctx))
		e.ts.Close()
	})
	return e
}

// with returns e for subtest t: failures are reported to t.
func (e *env) with(t testing.TB) *env {
	c := *e
	c.t = t
	return &c
}

// session returns the Engine.IO session sid of either server, or nil.
func (e *env) session(sid string) *engineio.Session {
	if s := e.srv.engine.Session(sid); s != nil {
		return s
	}
	return e.srv.sio.Engine().Session(sid)
}

// waitUpgraded waits until session sid runs on WebSocket.
func (e *env) waitUpgraded(sid string) {
	e.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		s := e.session(sid)
		require.NotNil(e.t, s, "session %s closed", sid)
		if s.Transport() == engineio.TransportWebSocket {
			return
		}
		require.True(e.t, time.Now().Before(deadline), "session %s not upgraded in time", sid)
		time.Sleep(5 * time.Millisecond)
	}
}

// waitGET waits until a polling GET of session sid reaches the server
// (GETs of other sessions are skipped).
func (e *env) waitGET(sid string) {
	e.t.Helper()
	timeout := time.After(waitTimeout)
	for {
		select {
		case got := <-e.gets:
			if got == sid {
				return
			}
		case <-timeout:
			e.t.Fatalf("no GET of session %s", sid)
		}
	}
}

// response is an HTTP answer, read whole.
type response struct {
	status int
	header http.Header
	body   string
}

// do sends a request to path?query (path is enginePath or socketPath).
func (e *env) do(ctx context.Context, method, path, query, body string, hdr http.Header) (response, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, e.ts.URL+path+"?"+query, rd)
	if err != nil {
		return response{}, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if body != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8") // what fetch sends
	}
	res, err := e.hc.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return response{res.StatusCode, res.Header, string(b)}, err
}

func (e *env) mustDo(method, path, query, body string, hdr http.Header) response {
	e.t.Helper()
	res, err := e.do(context.Background(), method, path, query, body, hdr)
	require.NoError(e.t, err)
	return res
}

func (e *env) get(path, query string) response {
	e.t.Helper()
	return e.mustDo(http.MethodGet, path, query, "", nil)
}

func (e *env) post(path, query, body string) response {
	e.t.Helper()
	return e.mustDo(http.MethodPost, path, query, body, nil)
}

const (
	pollingHandshake = "EIO=4&transport=polling"
	wsHandshake      = "EIO=4&transport=websocket"
)

func pollQuery(sid string) string { return pollingHandshake + "&sid=" + url.QueryEscape(sid) }

// openPacket checks an Engine.IO open packet ("0{...}") against the
// suites' expectations and returns its sid.
func openPacket(t testing.TB, packet string, upgrades string) string {
	t.Helper()
	require.True(t, strings.HasPrefix(packet, "0{"), "open packet: %q", packet)
	var fields map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(packet[1:]), &fields))
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	require.ElementsMatch(t, []string{"sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"}, keys, packet)
	var sid string
	require.NoError(t, json.Unmarshal(fields["sid"], &sid), packet)
	require.NotEmpty(t, sid)
	require.JSONEq(t, upgrades, string(fields["upgrades"]))
	require.Equal(t, "300", string(fields["pingInterval"]))
	require.Equal(t, "200", string(fields["pingTimeout"]))
	require.Equal(t, "1000000", string(fields["maxPayload"]))
	return sid
}

// pollHandshake opens a polling session on path and returns its sid.
func (e *env) pollHandshake(path string) string {
	e.t.Helper()
	res := e.get(path, pollingHandshake)
	require.Equal(e.t, http.StatusOK, res.status, res.body)
	return openPacket(e.t, res.body, `["websocket"]`)
}

// pollPackets reads the next n packets of a polling session, answering
// the server's pings (which it does not count) so that the session lives
// however slow the test machine is.
func (e *env) pollPackets(path, sid string, n int) []string {
	e.t.Helper()
	var got []string
	for i := 0; len(got) < n; i++ {
		require.Less(e.t, i, 50, "no %d packets in 50 polls: %q", n, got)
		res := e.get(path, pollQuery(sid))
		require.Equal(e.t, http.StatusOK, res.status, res.body)
		for p := range strings.SplitSeq(res.body, "\x1e") {
			if p == "2" {
				require.Equal(e.t, "ok", e.post(path, pollQuery(sid), "3").body)
				continue
			}
			got = append(got, p)
		}
	}
	require.Len(e.t, got, n, "packets: %q", got)
	return got
}

// waitGone waits until the Engine.IO session sid no longer exists on
// either server.
func (e *env) waitGone(sid string) {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for e.session(sid) != nil {
		require.True(e.t, time.Now().Before(deadline), "session %s still open after 5 s", sid)
		time.Sleep(10 * time.Millisecond)
	}
}

// requireUnknownSID checks that a polling GET with sid is refused as an
// unknown session, as Node answers.
func (e *env) requireUnknownSID(path, sid string) {
	e.t.Helper()
	res := e.get(path, pollQuery(sid))
	require.Equal(e.t, http.StatusBadRequest, res.status, res.body)
	require.JSONEq(e.t, `{"code":1,"message":"Session ID unknown"}`, res.body)
}

// frame is one WebSocket message.
type frame struct {
	binary bool
	data   string
}

func text(s string) frame    { return frame{data: s} }
func binary(b ...byte) frame { return frame{binary: true, data: string(b)} }

// wsConn is a raw Engine.IO WebSocket client. Its reader answers the
// server's pings by itself (unless pongs is false) so that heartbeats
// cannot interfere with the test, and hands every other message over.
type wsConn struct {
	t     testing.TB
	conn  *websocket.Conn
	msgs  chan frame // closed when the connection ends
	done  chan struct{}
	wmu   sync.Mutex // one writer at a time (gorilla's rule)
	pongs bool
	err   error // why the reader stopped; set before done is closed
}

// dial opens a WebSocket on path?query. With pongs, pings are answered
// and not delivered; without, they are delivered as text("2").
func (e *env) dial(path, query string, pongs bool) (*wsConn, *http.Response, error) {
	u := "ws" + strings.TrimPrefix(e.ts.URL, "http") + path + "?" + query
	d := websocket.Dialer{HandshakeTimeout: waitTimeout}
	conn, res, err := d.Dial(u, nil)
	if err != nil {
		return nil, res, err
	}
	c := &wsConn{t: e.t, conn: conn, msgs: make(chan frame, 1024), done: make(chan struct{}), pongs: pongs}
	go c.readLoop()
	e.t.Cleanup(c.close)
	return c, res, nil
}

func (e *env) mustDial(path, query string, pongs bool) *wsConn {
	e.t.Helper()
	c, _, err := e.dial(path, query, pongs)
	require.NoError(e.t, err)
	return c
}

// wsHandshake opens a WebSocket session on path and returns it with its
// sid.
func (e *env) wsHandshake(path string, pongs bool) (*wsConn, string) {
	e.t.Helper()
	c := e.mustDial(path, wsHandshake, pongs)
	return c, openPacket(e.t, c.nextText(), `[]`)
}

func (c *wsConn) readLoop() {
	defer close(c.done)
	defer close(c.msgs)
	for {
		op, b, err := c.conn.ReadMessage()
		if err != nil {
			c.err = err
			return
		}
		if op == websocket.TextMessage && string(b) == "2" && c.pongs {
			if err := c.write(websocket.TextMessage, []byte("3")); err != nil {
				c.err = err
				return
			}
			continue
		}
		c.msgs <- frame{binary: op == websocket.BinaryMessage, data: string(b)}
	}
}

func (c *wsConn) write(op int, b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.conn.SetWriteDeadline(time.Now().Add(waitTimeout))
	return c.conn.WriteMessage(op, b)
}

func (c *wsConn) close() {
	_ = c.conn.Close()
	<-c.done
}

func (c *wsConn) send(s string) {
	c.t.Helper()
	require.NoError(c.t, c.write(websocket.TextMessage, []byte(s)))
}

func (c *wsConn) sendBinary(b ...byte) {
	c.t.Helper()
	require.NoError(c.t, c.write(websocket.BinaryMessage, b))
}

// next returns the next message; it fails the test if the connection
// ends first or nothing comes within waitTimeout.
func (c *wsConn) next() frame {
	c.t.Helper()
	select {
	case f, ok := <-c.msgs:
		if !ok {
			<-c.done
			c.t.Fatalf("connection closed while waiting for a message: %v", c.err)
		}
		return f
	case <-time.After(waitTimeout):
		c.t.Fatal("no message within the timeout")
	}
	panic("unreachable")
}

func (c *wsConn) nextText() string {
	c.t.Helper()
	f := c.next()
	require.False(c.t, f.binary, "binary message %q where text was expected", f.data)
	return f.data
}

// expect checks the next messages.
func (c *wsConn) expect(want ...frame) {
	c.t.Helper()
	for i, w := range want {
		require.Equal(c.t, w, c.next(), "message %d", i)
	}
}

// expectClosed waits until the server closes the connection and returns
// the messages received meanwhile.
func (c *wsConn) expectClosed() []frame {
	c.t.Helper()
	var got []frame
	timeout := time.After(waitTimeout)
	for {
		select {
		case f, ok := <-c.msgs:
			if !ok {
				<-c.done
				return got
			}
			got = append(got, f)
		case <-timeout:
			c.t.Fatalf("connection still open after %v (received %v)", waitTimeout, got)
		}
	}
}
