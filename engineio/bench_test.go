package engineio

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// benchOptions keeps heartbeats out of the measurements.
func benchOptions() *Options {
	return &Options{PingInterval: time.Hour, PingTimeout: time.Hour}
}

// newBenchServer starts a server without the recorder of newTestServer,
// whose bounded channels would block a long benchmark.
func newBenchServer(b *testing.B, opts *Options, onConn func(*Session)) (*Server, *httptest.Server) {
	b.Helper()
	srv, err := New(opts)
	if err != nil {
		b.Fatal(err)
	}
	srv.OnConnection(onConn)
	hts := httptest.NewServer(srv)
	b.Cleanup(func() {
		_ = srv.Close()
		hts.CloseClientConnections()
		hts.Close()
	})
	return srv, hts
}

func benchDialWS(b *testing.B, hts *httptest.Server) *websocket.Conn {
	b.Helper()
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	conn, _, err := d.Dial("ws"+strings.TrimPrefix(hts.URL, "http")+"/engine.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, open, err := conn.ReadMessage(); err != nil || open[0] != '0' {
		b.Fatalf("open packet: %q, %v", open, err)
	}
	return conn
}

// One text message client → server → client over a loopback WebSocket.
func BenchmarkWebSocketRoundTrip(b *testing.B) {
	_, hts := newBenchServer(b, benchOptions(), echoMessages)
	conn := benchDialWS(b, hts)
	defer conn.Close()
	msg := []byte("4" + strings.Repeat("x", 63))
	b.ReportAllocs()
	for b.Loop() {
		if err := conn.WriteMessage(websocket.TextMessage, msg); err != nil {
			b.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, got, err := conn.ReadMessage(); err != nil || len(got) != len(msg) {
			b.Fatalf("echo: %q, %v", got, err)
		}
	}
}

// One message POSTed, its echo fetched by a GET.
func BenchmarkPollingRoundTrip(b *testing.B) {
	_, hts := newBenchServer(b, benchOptions(), echoMessages)
	tr := &http.Transport{MaxIdleConnsPerHost: 4}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	base := hts.URL + "/engine.io/?EIO=4&transport=polling"
	do := func(method, url, body string) string {
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, _ := http.NewRequest(method, url, rd)
		if body != "" {
			req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
		}
		res, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer res.Body.Close()
		out, err := io.ReadAll(res.Body)
		if err != nil || res.StatusCode != http.StatusOK {
			b.Fatalf("%s: %d %q %v", method, res.StatusCode, out, err)
		}
		return string(out)
	}
	open := do("GET", base, "")
	sid := open[strings.Index(open, `"sid":"`)+7:]
	sid = sid[:strings.IndexByte(sid, '"')]
	url := base + "&sid=" + sid
	payload := "4" + strings.Repeat("x", 63)
	b.ReportAllocs()
	for b.Loop() {
		if got := do("POST", url, payload); got != "ok" {
			b.Fatalf("POST: %q", got)
		}
		if got := do("GET", url, ""); got != payload {
			b.Fatalf("GET: %q", got)
		}
	}
}

// One *Message sent with SendMessages to 1 000 WebSocket sessions whose
// clients read in their own goroutines; an iteration ends when every
// client has it.
func BenchmarkFanout1000(b *testing.B) {
	const n = 1000
	var mu sync.Mutex
	var sessions []*Session
	_, hts := newBenchServer(b, benchOptions(), func(s *Session) {
		mu.Lock()
		sessions = append(sessions, s)
		mu.Unlock()
	})

	var received, target atomic.Int64
	arrived := make(chan struct{}, 1)
	var readers sync.WaitGroup
	conns := make([]*websocket.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
		readers.Wait()
	}()
	for range n {
		c := benchDialWS(b, hts)
		conns = append(conns, c)
		readers.Go(func() {
			for {
				_, m, err := c.ReadMessage()
				if err != nil {
					return
				}
				if len(m) > 0 && m[0] == '4' && received.Add(1) == target.Load() {
					select {
					case arrived <- struct{}{}:
					default:
					}
				}
			}
		})
	}
	mu.Lock()
	if len(sessions) != n {
		b.Fatalf("%d sessions", len(sessions))
	}
	mu.Unlock()

	payload := []byte(strings.Repeat("x", 64))
	iterations := 0
	b.ReportAllocs()
	for b.Loop() {
		target.Add(n)
		m := NewMessage(payload, false)
		for _, s := range sessions {
			if err := s.SendMessages(m); err != nil {
				b.Fatal(err)
			}
		}
		select {
		case <-arrived:
		case <-time.After(10 * time.Second):
			b.Fatalf("only %d of %d messages arrived", received.Load(), target.Load())
		}
		iterations++
	}
	b.ReportMetric(float64(iterations*n)/b.Elapsed().Seconds(), "msgs/s")
}

// benchDiscardConn is a net.Conn whose writes vanish.
type benchDiscardConn struct{}

func (benchDiscardConn) Read([]byte) (int, error)         { return 0, io.EOF }
func (benchDiscardConn) Write(p []byte) (int, error)      { return len(p), nil }
func (benchDiscardConn) Close() error                     { return nil }
func (benchDiscardConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (benchDiscardConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (benchDiscardConn) SetDeadline(time.Time) error      { return nil }
func (benchDiscardConn) SetReadDeadline(time.Time) error  { return nil }
func (benchDiscardConn) SetWriteDeadline(time.Time) error { return nil }

// The writer's framing and coalescing of 1 000 small messages, without
// the network.
func BenchmarkWriteBatch(b *testing.B) {
	c := &wsConn{nc: benchDiscardConn{}, wmu: newWriteLock(), writeTimeout: time.Minute}
	msgs := make([]*Message, 1000)
	for i := range msgs {
		msgs[i] = NewMessage([]byte(strings.Repeat("m", 32)), false)
	}
	iterations := 0
	b.ReportAllocs()
	for b.Loop() {
		if err := c.writeBatch(msgs); err != nil {
			b.Fatal(err)
		}
		iterations++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(iterations*len(msgs)), "ns/msg")
}

// A burst of 64 text messages of 100 bytes, sent by the client in one
// write, read by the server: the cost of reading frames that arrive
// together, which the size of the connection's read buffer (the reads
// per burst) affects.
func BenchmarkWebSocketReadBurst(b *testing.B) {
	const burst = 64
	got := make(chan struct{}, 1)
	var n atomic.Int64
	_, hts := newBenchServer(b, benchOptions(), func(s *Session) {
		s.OnMessage(func([]byte, bool) {
			if n.Add(1)%burst == 0 {
				got <- struct{}{}
			}
		})
	})
	conn := benchDialWS(b, hts)
	defer conn.Close()
	// Masked client frames with a zero mask: the payload as it is.
	var frames []byte
	for range burst {
		frames = append(frames, 0x81, 0x80|100, 0, 0, 0, 0)
		frames = append(frames, "4"+strings.Repeat("x", 99)...)
	}
	nc := conn.NetConn()
	b.SetBytes(int64(len(frames)))
	for b.Loop() {
		if _, err := nc.Write(frames); err != nil {
			b.Fatal(err)
		}
		select {
		case <-got:
		case <-time.After(5 * time.Second):
			b.Fatal("burst not read")
		}
	}
}
