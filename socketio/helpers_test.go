package socketio

import (
	"log/slog"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"
)

// newTestServer starts a Socket.IO server on a loopback httptest server.
func newTestServer(t testing.TB, opts *Options) (*Server, string) {
	t.Helper()
	if opts == nil {
		opts = &Options{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	srv, err := New(opts)
	require.NoError(t, err)
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		_ = srv.Close()
		ts.CloseClientConnections()
		ts.Close()
	})
	return srv, "ws" + strings.TrimPrefix(ts.URL, "http") + srv.Path()
}

// rawClient speaks Socket.IO frames over a raw Engine.IO WebSocket.
type rawClient struct {
	t    testing.TB
	conn *websocket.Conn
}

func dial(t testing.TB, url string) *rawClient {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial(url+"?EIO=4&transport=websocket", nil)
	require.NoError(t, err)
	c := &rawClient{t: t, conn: conn}
	t.Cleanup(func() { _ = conn.Close() })
	open := c.readRaw()
	require.True(t, strings.HasPrefix(open, "0{"), open)
	return c
}

// send writes one Socket.IO text frame ("4" + frame at the Engine.IO level).
func (c *rawClient) send(frame string) {
	c.t.Helper()
	require.NoError(c.t, c.conn.WriteMessage(websocket.TextMessage, []byte("4"+frame)))
}

func (c *rawClient) sendBinary(b []byte) {
	c.t.Helper()
	require.NoError(c.t, c.conn.WriteMessage(websocket.BinaryMessage, b))
}

// readRaw returns the next Engine.IO message; binary ones as "bin:"+data.
func (c *rawClient) readRaw() string {
	c.t.Helper()
	s, err := c.tryReadRaw()
	require.NoError(c.t, err)
	return s
}

func (c *rawClient) tryReadRaw() (string, error) {
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

// read returns the next Socket.IO frame (pings answered and skipped).
func (c *rawClient) read() string {
	c.t.Helper()
	for {
		m := c.readRaw()
		switch {
		case m == "2":
			require.NoError(c.t, c.conn.WriteMessage(websocket.TextMessage, []byte("3")))
		case strings.HasPrefix(m, "4"):
			return m[1:]
		default:
			return m // binary attachments
		}
	}
}

// connect joins nsp ("/" for main) and returns the socket id.
func (c *rawClient) connect(nsp string) string {
	c.t.Helper()
	prefix := ""
	if nsp != "/" {
		prefix = nsp + ","
	}
	c.send("0" + prefix)
	ans := c.read()
	require.True(c.t, strings.HasPrefix(ans, "0"+prefix+`{"sid":"`), ans)
	sid := strings.TrimSuffix(strings.TrimPrefix(ans, "0"+prefix+`{"sid":"`), `"}`)
	require.Len(c.t, sid, 20)
	return sid
}

// expectClosed reads until the connection ends.
func (c *rawClient) expectClosed() {
	c.t.Helper()
	for range 100 {
		if _, err := c.tryReadRaw(); err != nil {
			return
		}
	}
	c.t.Fatal("connection not closed")
}

func recv[T any](t testing.TB, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("timed out")
		panic("unreachable")
	}
}

func mustRegexp(s string) *regexp.Regexp { return regexp.MustCompile(s) }

// postFrames sends Socket.IO frames over the polling transport, in-process.
func postFrames(t testing.TB, srv *Server, sid string, frames ...string) {
	t.Helper()
	body := ""
	for i, f := range frames {
		if i > 0 {
			body += "\x1e"
		}
		body += "4" + f
	}
	req := httptest.NewRequest("POST", "/socket.io/?EIO=4&transport=polling&sid="+sid, strings.NewReader(body))
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, req)
	require.Equal(t, 200, w.Code, w.Body.String())
}

// poll answers one polling GET, in-process.
func poll(t testing.TB, srv *Server, sid, acceptEncoding string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("GET", "/socket.io/?EIO=4&transport=polling&sid="+sid, nil)
	if acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", acceptEncoding)
	}
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, req)
	require.Equal(t, 200, w.Code, w.Body.String())
	return w
}
