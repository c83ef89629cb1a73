package socketio

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// BenchmarkBroadcast sends one event to every socket of a namespace, with
// n real WebSocket clients draining their connections. allocs/op is the
// server's work per broadcast plus the clients'; what matters is how it
// grows with n (the packet is encoded once; each recipient costs a queue
// entry and, when its writer was idle, a writer wake-up).
func BenchmarkBroadcast(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("sockets=%d", n), func(b *testing.B) {
			srv, err := New(&Options{Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				b.Fatal(err)
			}
			var connected sync.WaitGroup
			connected.Add(n)
			srv.OnConnection(func(context.Context, *Socket) error { connected.Done(); return nil })
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
			srv, err := New(&Options{Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				b.Fatal(err)
			}
			var connected sync.WaitGroup
			connected.Add(n)
			srv.OnConnection(func(context.Context, *Socket) error { connected.Done(); return nil })
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
