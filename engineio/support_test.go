package engineio

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/gosio/gosio/internal/syncbuf"
)

// Helpers for cors_test.go, options_test.go, compression_test.go,
// shutdown_test.go, backpressure_test.go, hostile_test.go and
// bench_test.go. They complement helpers_test.go and reuse its types.

// connErrors records what Options.OnConnectionError reports.
type connErrors struct{ ch chan *ConnectionError }

func newConnErrors() *connErrors { return &connErrors{ch: make(chan *ConnectionError, 64)} }

func (c *connErrors) hook(e *ConnectionError) {
	select {
	case c.ch <- e:
	default: // more than a test can look at
	}
}

func (c *connErrors) next(t testing.TB) *ConnectionError {
	t.Helper()
	return recv(t, c.ch, "OnConnectionError")
}

// none asserts that nothing was reported so far.
func (c *connErrors) none(t testing.TB) {
	t.Helper()
	select {
	case e := <-c.ch:
		t.Errorf("unexpected OnConnectionError: %v", e)
	default:
	}
}

// newTestServerHTTP is newTestServer for tests that need to configure the
// httptest.Server before it starts: its http.Server (WriteTimeout,
// ErrorLog) or its listener.
func newTestServerHTTP(t testing.TB, opts *Options, setup func(*Session), configure func(*httptest.Server)) *testServer {
	t.Helper()
	srv, err := New(opts)
	require.NoError(t, err)
	rec := newRecorder()
	srv.OnConnection(func(s *Session) {
		rec.attach(s)
		if setup != nil {
			setup(s)
		}
	})
	hts := httptest.NewUnstartedServer(srv)
	if configure != nil {
		configure(hts)
	}
	hts.Start()
	t.Cleanup(func() {
		_ = srv.Close()
		hts.CloseClientConnections()
		hts.Close()
	})
	return &testServer{Server: srv, ts: hts, rec: rec, url: hts.URL + srv.Path()}
}

// withErrorLog makes an http.Server log into buf: net/http recovers
// handler panics and only logs them.
func withErrorLog(buf *syncbuf.Buffer) func(*httptest.Server) {
	return func(hts *httptest.Server) { hts.Config.ErrorLog = log.New(buf, "", 0) }
}

// echoMessages echoes every message back, text as text and binary as
// binary.
func echoMessages(s *Session) {
	s.OnMessage(func(data []byte, binary bool) {
		if binary {
			_ = s.SendBinary(data)
		} else {
			_ = s.Send(data)
		}
	})
}

// parseOpen decodes an open packet ("0{...}").
func parseOpen(t testing.TB, open string) handshakeData {
	t.Helper()
	require.True(t, strings.HasPrefix(open, "0{"), "not an open packet: %q", open)
	var hs handshakeData
	require.NoError(t, json.Unmarshal([]byte(open[1:]), &hs), open)
	return hs
}

// fetch sends a request to an absolute URL with c's connection pool.
func (c *client) fetch(method, rawURL string, hdr map[string]string) response {
	c.t.Helper()
	req, err := http.NewRequest(method, rawURL, nil)
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

// totalAlloc returns the bytes allocated by the process so far.
func totalAlloc() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.TotalAlloc
}

// liveHeap returns the live heap after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// countingConn counts the bytes read from a connection.
type countingConn struct {
	net.Conn
	read *atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

// dialWSWith dials the test server with d; the returned counter holds the
// bytes read from the wire.
func (ts *testServer) dialWSWith(t testing.TB, d websocket.Dialer, query string, hdr http.Header) (*wsClient, *http.Response, *atomic.Int64, error) {
	t.Helper()
	read := new(atomic.Int64)
	d.NetDialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &countingConn{Conn: nc, read: read}, nil
	}
	if d.HandshakeTimeout == 0 {
		d.HandshakeTimeout = 5 * time.Second
	}
	u := "ws" + strings.TrimPrefix(ts.url, "http") + "?" + query
	conn, res, err := d.Dial(u, hdr)
	if err != nil {
		return nil, res, read, err
	}
	c := &wsClient{t: t, conn: conn}
	t.Cleanup(c.close)
	return c, res, read, nil
}

// headerValues splits every value of a comma-separated header.
func headerValues(h http.Header, name string) []string {
	var out []string
	for _, v := range h.Values(name) {
		for part := range strings.SplitSeq(v, ",") {
			if p := strings.TrimSpace(part); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}
