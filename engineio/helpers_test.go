package engineio

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"
)

// fastOptions keeps timers short for tests that run on the wall clock.
func fastOptions() *Options {
	return &Options{PingInterval: 300 * time.Millisecond, PingTimeout: 200 * time.Millisecond}
}

// recorder collects what sessions report, for assertions.
type recorder struct {
	sessions chan *Session
	messages chan message
	closes   chan closeEvent
	upgrades chan string
}

type message struct {
	data   string
	binary bool
}

func newRecorder() *recorder {
	return &recorder{
		sessions: make(chan *Session, 64),
		messages: make(chan message, 1024),
		closes:   make(chan closeEvent, 64),
		upgrades: make(chan string, 64),
	}
}

func (rec *recorder) attach(s *Session) {
	s.OnMessage(func(data []byte, binary bool) { rec.messages <- message{string(data), binary} })
	s.OnClose(func(reason Reason, err error) { rec.closes <- closeEvent{reason, err} })
	s.OnUpgrade(func(t string) { rec.upgrades <- t })
	rec.sessions <- s
}

func recv[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

func (rec *recorder) session(t testing.TB) *Session  { return recv(t, rec.sessions, "session") }
func (rec *recorder) message(t testing.TB) message   { return recv(t, rec.messages, "message") }
func (rec *recorder) closed(t testing.TB) closeEvent { return recv(t, rec.closes, "close") }

// testServer is an engineio.Server behind an httptest.Server.
type testServer struct {
	*Server
	ts  *httptest.Server
	rec *recorder
	url string // http://127.0.0.1:port/engine.io/
}

// newTestServer starts a server whose sessions are recorded; opts may be
// nil. setup, if not nil, runs in the connection callback after recording.
func newTestServer(t testing.TB, opts *Options, setup func(*Session)) *testServer {
	t.Helper()
	return newTestServerHTTP(t, opts, setup, nil)
}

// client is a raw Engine.IO HTTP client, with its own connection pool.
type client struct {
	t    testing.TB
	base string
	hc   *http.Client
}

func (ts *testServer) client(t testing.TB) *client {
	tr := &http.Transport{MaxConnsPerHost: 16}
	t.Cleanup(tr.CloseIdleConnections)
	return &client{t: t, base: ts.url, hc: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

func (c *client) url(query string) string { return c.base + "?" + query }

type response struct {
	status int
	header http.Header
	body   string
}

func (c *client) do(method, query, body string, hdr map[string]string) response {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.url(query), rd)
	require.NoError(c.t, err)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := c.hc.Do(req)
	require.NoError(c.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(c.t, err)
	return response{res.StatusCode, res.Header, string(b)}
}

func (c *client) get(query string) response { c.t.Helper(); return c.do("GET", query, "", nil) }
func (c *client) post(query, body string) response {
	c.t.Helper()
	return c.do("POST", query, body, map[string]string{"Content-Type": "text/plain;charset=UTF-8"})
}

// handshake opens a polling session and returns its sid.
func (c *client) handshake() string {
	c.t.Helper()
	res := c.get("EIO=4&transport=polling")
	require.Equal(c.t, http.StatusOK, res.status, res.body)
	require.True(c.t, strings.HasPrefix(res.body, "0{"), res.body)
	return sidOf(c.t, res.body[1:])
}

func sidOf(t testing.TB, open string) string {
	t.Helper()
	i := strings.Index(open, `"sid":"`)
	require.GreaterOrEqual(t, i, 0, open)
	rest := open[i+7:]
	return rest[:strings.IndexByte(rest, '"')]
}

func pollQuery(sid string) string { return "EIO=4&transport=polling&sid=" + url.QueryEscape(sid) }

// wsClient is a gorilla WebSocket client speaking raw Engine.IO.
type wsClient struct {
	t    testing.TB
	conn *websocket.Conn
	once sync.Once
}

func (ts *testServer) dialWS(t testing.TB, query string, hdr http.Header) (*wsClient, *http.Response, error) {
	u := "ws" + strings.TrimPrefix(ts.url, "http") + "?" + query
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	conn, res, err := d.Dial(u, hdr)
	if err != nil {
		return nil, res, err
	}
	c := &wsClient{t: t, conn: conn}
	t.Cleanup(c.close)
	return c, res, nil
}

func (ts *testServer) mustDialWS(t testing.TB, query string) *wsClient {
	t.Helper()
	c, _, err := ts.dialWS(t, query, nil)
	require.NoError(t, err)
	return c
}

func (c *wsClient) close() { c.once.Do(func() { _ = c.conn.Close() }) }

func (c *wsClient) send(s string) {
	c.t.Helper()
	require.NoError(c.t, c.conn.WriteMessage(websocket.TextMessage, []byte(s)))
}

func (c *wsClient) sendBinary(b []byte) {
	c.t.Helper()
	require.NoError(c.t, c.conn.WriteMessage(websocket.BinaryMessage, b))
}

// read returns the next message; binary ones are prefixed with "bin:".
func (c *wsClient) read() (string, error) {
	_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	op, b, err := c.conn.ReadMessage()
	if err != nil {
		return "", err
	}
	if op == websocket.BinaryMessage {
		return "bin:" + string(b), nil
	}
	return string(b), nil
}

func (c *wsClient) mustRead() string {
	c.t.Helper()
	m, err := c.read()
	require.NoError(c.t, err)
	return m
}

// readSkippingPings returns the next message that is not a ping,
// answering pings with pongs.
func (c *wsClient) readSkippingPings() string {
	c.t.Helper()
	for {
		m := c.mustRead()
		if m != "2" {
			return m
		}
		c.send("3")
	}
}

// expectClosed reads until the connection ends and returns the close
// error (a *websocket.CloseError when the server sent a close frame).
func (c *wsClient) expectClosed() error {
	c.t.Helper()
	for range 1000 {
		if _, err := c.read(); err != nil {
			return err
		}
	}
	c.t.Fatal("connection not closed")
	return nil
}
