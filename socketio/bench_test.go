package socketio

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// newBenchServer returns a server logging to logger and a WaitGroup that
// its connection handler counts down from n.
func newBenchServer(b *testing.B, logger *slog.Logger, n int) (*Server, *sync.WaitGroup) {
	b.Helper()
	srv, err := New(&Options{Logger: logger})
	if err != nil {
		b.Fatal(err)
	}
	connected := new(sync.WaitGroup)
	connected.Add(n)
	srv.OnConnection(func(context.Context, *Socket) error { connected.Done(); return nil })
	return srv, connected
}

// BenchmarkBroadcast sends one event to every socket of a namespace, with
// n real WebSocket clients draining their connections. allocs/op is the
// server's work per broadcast plus the clients'; what matters is how it
// grows with n (the packet is encoded once; each recipient costs a queue
// entry and, when its writer was idle, a writer wake-up).
func BenchmarkBroadcast(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("sockets=%d", n), func(b *testing.B) {
			srv, connected := newBenchServer(b, slog.New(slog.DiscardHandler), n)
			ts := httptest.NewServer(srv)
			url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
			var received atomic.Int64
			var readers sync.WaitGroup
			conns := make([]*websocket.Conn, n)
			for i := range conns {
				c, _, err := websocket.DefaultDialer.Dial(url, nil)
				if err != nil {
					b.Fatal(err)
				}
				_, _, _ = c.ReadMessage() // open
				_ = c.WriteMessage(websocket.TextMessage, []byte("40"))
				_, _, _ = c.ReadMessage() // connect
				conns[i] = c
				readers.Go(func() {
					for {
						if _, _, err := c.ReadMessage(); err != nil {
							return
						}
						received.Add(1)
					}
				})
			}
			connected.Wait()
			b.ReportAllocs()
			b.ResetTimer()
			sent := 0
			for b.Loop() {
				if err := srv.Emit("tick", 42); err != nil {
					b.Fatal(err)
				}
				sent++
			}
			b.StopTimer()
			deadline := time.Now().Add(30 * time.Second)
			for received.Load() < int64(sent*n) && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			b.ReportMetric(float64(n), "recipients/op")
			_ = srv.Close()
			for _, c := range conns {
				_ = c.Close()
			}
			readers.Wait()
			ts.Close()
		})
	}
}

// BenchmarkBroadcastServerOnly measures the server's own cost of a
// broadcast, with no network and no client: n polling sessions, created
// in-process, whose queues just fill up. allocs/op must not grow with n
// beyond the amortised growth of each recipient's queue.
func BenchmarkBroadcastServerOnly(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("sockets=%d", n), func(b *testing.B) {
			srv, connected := newBenchServer(b, slog.New(slog.DiscardHandler), n)
			for range n {
				sid := fuzzHandshake(nil, srv)
				req := httptest.NewRequest("POST", "/socket.io/?EIO=4&transport=polling&sid="+sid, strings.NewReader("40"))
				srv.ServeHTTP(httptest.NewRecorder(), req)
			}
			connected.Wait()
			b.ReportAllocs()
			for b.Loop() {
				if err := srv.Emit("tick", 42); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n), "recipients/op")
			_ = srv.Close()
		})
	}
}

// BenchmarkIdleConnection reports what an idle Socket.IO connection
// costs the server in memory: live heap plus goroutine stacks, after a
// garbage collection, divided by the number of connections ("B/conn"),
// with 1000 WebSocket clients connected to "/" and silent. The clients
// are bare TCP connections (no goroutine, no buffer once connected):
// their few hundred bytes each are included. This is the in-process
// counterpart of the resident memory per idle connection that
// bench/cmd/bench's connect scenario reads from /proc. The logger is a
// text handler at level Info, like a real server's (its per-connection
// clones cost memory; slog.DiscardHandler's do not).
func BenchmarkIdleConnection(b *testing.B) {
	const n = 1000
	for b.Loop() {
		srv, connected := newBenchServer(b, slog.New(slog.NewTextHandler(io.Discard, nil)), n)
		ts := httptest.NewServer(srv)
		heap0, stacks0 := inUse()
		conns := make([]net.Conn, n)
		for i := range conns {
			c, err := dialIdle(ts.Listener.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			conns[i] = c
		}
		connected.Wait()
		heap, stacks := inUse()
		b.ReportMetric(float64(heap+stacks-heap0-stacks0)/n, "B/conn")
		b.ReportMetric(float64(heap-heap0)/n, "heap-B/conn")
		b.ReportMetric(float64(stacks-stacks0)/n, "stack-B/conn")
		_ = srv.Close()
		for _, c := range conns {
			_ = c.Close()
		}
		ts.Close()
	}
}

// inUse returns the live heap and the goroutine stacks, after a
// collection.
func inUse() (heap, stacks uint64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc, ms.StackInuse
}

// dialIdle opens a WebSocket connection to the Socket.IO server at addr
// by hand, connects to "/" and returns the bare TCP connection.
func dialIdle(addr string) (net.Conn, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	_, err = io.WriteString(c, "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: "+addr+
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	br := bufio.NewReader(c)
	if err == nil {
		var resp *http.Response
		if resp, err = http.ReadResponse(br, nil); err == nil && resp.StatusCode != http.StatusSwitchingProtocols {
			err = fmt.Errorf("upgrade: %s", resp.Status)
		}
	}
	// The open packet, then "40" in a masked frame (a zero mask), then
	// the CONNECT answer.
	readFrame := func() {
		if err != nil {
			return
		}
		var h [2]byte
		if _, err = io.ReadFull(br, h[:]); err == nil && h[1] >= 126 {
			err = fmt.Errorf("unexpected frame header % x", h)
		}
		if err == nil {
			_, err = br.Discard(int(h[1]))
		}
	}
	readFrame()
	if err == nil {
		_, err = c.Write([]byte{0x81, 0x82, 0, 0, 0, 0, '4', '0'})
	}
	readFrame()
	if err == nil && br.Buffered() > 0 {
		err = fmt.Errorf("%d unexpected bytes after the CONNECT answer", br.Buffered())
	}
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	_ = c.SetDeadline(time.Time{})
	return c, nil
}

// BenchmarkEchoAck measures one round trip of an event whose handler
// acks with the received arguments (bench/server's bench:echo), over a
// real WebSocket: the cost of the read, dispatch, encode and write path.
// allocs/op includes the client's reads (gorilla's ReadMessage).
func BenchmarkEchoAck(b *testing.B) {
	srv, connected := newBenchServer(b, slog.New(slog.DiscardHandler), 1)
	srv.On("echo", func(_ context.Context, ev *Event) error { return ev.Ack(ev.Args()...) })
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	_, _, _ = c.ReadMessage() // open
	_ = c.WriteMessage(websocket.TextMessage, []byte("40"))
	_, _, _ = c.ReadMessage() // connect
	connected.Wait()
	msg := []byte(`421["echo",{"t":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}]`)
	want := `431[{"t":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}]`
	b.ReportAllocs()
	for b.Loop() {
		if err := c.WriteMessage(websocket.TextMessage, msg); err != nil {
			b.Fatal(err)
		}
		_, got, err := c.ReadMessage()
		if err != nil || string(got) != want {
			b.Fatalf("ack %q, %v; want %q", got, err, want)
		}
	}
}
