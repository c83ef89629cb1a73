package natsadapter_test

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

	natsadapter "github.com/gosio/gosio/adapter/nats"
	"github.com/gosio/gosio/adapter/nats/natsembed"
	"github.com/gosio/gosio/socketio"
)

const (
	// benchTimeout bounds each wait of the benchmarks (set-up, deliveries).
	benchTimeout = 30 * time.Second
	// benchWindow is how many broadcasts the sender may be ahead of the
	// slowest client: far below what would make a client a slow consumer
	// (engineio's MaxBufferedBytes, 8 MiB) or a NATS subscription drop
	// messages (65 536 pending), whatever b.N.
	benchWindow = 1024
)

// BenchmarkBroadcast measures the fan-out of ns.Emit from server 0 to 99
// real WebSocket clients that drain their connections: all on one server
// with the memory adapter (servers=1), or 33 on each of 3 servers joined
// by the NATS adapter over one embedded, in-process NATS server, one
// connection per server (servers=3). An iteration is one broadcast; the
// timer stops once every client has received all b.N events, and
// deliveries/s is events received by the clients per second.
func BenchmarkBroadcast(b *testing.B) {
	for _, servers := range []int{1, 3} {
		b.Run(fmt.Sprintf("servers=%d", servers), func(b *testing.B) {
			c := newBenchCluster(b, servers, 99)
			ns := c.servers[0].Of("/")
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for i := range b.N {
				if err := ns.Emit("tick", 42); err != nil {
					b.Fatal(err)
				}
				if sent := int64(i + 1); sent%256 == 0 && sent > benchWindow {
					c.waitReceived(b, sent-benchWindow)
				}
			}
			c.waitReceived(b, int64(b.N))
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N*len(c.clients))/elapsed.Seconds(), "deliveries/s")
			b.ReportMetric(float64(len(c.clients)), "recipients/op")
		})
	}
}

// BenchmarkFetchSockets measures the latency of FetchSockets (ns/op) from
// server 0 with 100 sockets: all on it (servers=1, memory adapter), or
// spread over 3 servers joined by the NATS adapter (servers=3: a request
// to the two others and their answers, over one embedded NATS server).
func BenchmarkFetchSockets(b *testing.B) {
	const sockets = 100
	for _, servers := range []int{1, 3} {
		b.Run(fmt.Sprintf("servers=%d", servers), func(b *testing.B) {
			c := newBenchCluster(b, servers, sockets)
			ns := c.servers[0].Of("/")
			ctx, cancel := context.WithTimeout(b.Context(), benchTimeout)
			defer cancel()
			// Every socket is listed before the timer starts.
			for deadline := time.Now().Add(benchTimeout); ; time.Sleep(10 * time.Millisecond) {
				got, err := ns.FetchSockets(ctx)
				if err == nil && len(got) == sockets {
					break
				}
				if time.Now().After(deadline) {
					b.Fatalf("FetchSockets: %d sockets, %v; want %d", len(got), err, sockets)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				got, err := ns.FetchSockets(ctx)
				if err != nil || len(got) != sockets {
					b.Fatalf("FetchSockets: %d sockets, %v; want %d", len(got), err, sockets)
				}
			}
			b.StopTimer()
			b.ReportMetric(sockets, "sockets/op")
		})
	}
}

// benchCluster is servers Socket.IO servers, each behind an httptest
// server, with WebSocket clients spread over them round-robin.
type benchCluster struct {
	servers []*socketio.Server
	clients []*benchClient
}

// benchClient is a WebSocket client of the main namespace whose reader
// counts the events it receives.
type benchClient struct {
	conn   *websocket.Conn
	events atomic.Int64
}

// newBenchCluster starts the cluster (memory adapter for one server, the
// NATS adapter over an embedded NATS server for more) and connects the
// clients; everything is torn down at the end of b.
func newBenchCluster(b *testing.B, servers, clients int) *benchCluster {
	b.Helper()
	c := &benchCluster{}
	var adapters []func() socketio.Options
	if servers == 1 {
		adapters = append(adapters, func() socketio.Options { return socketio.Options{} })
	} else {
		bus, err := natsembed.Start(nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(bus.Shutdown)
		prefix := newPrefix()
		for range servers {
			nc, err := bus.Connect()
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(nc.Close) // after the Socket.IO server's Close
			adapters = append(adapters, func() socketio.Options {
				return socketio.Options{Adapter: natsadapter.New(nc, natsadapter.WithSubjectPrefix(prefix))}
			})
		}
	}
	var urls []string
	for _, opts := range adapters {
		o := opts()
		o.Logger = slog.New(slog.DiscardHandler)
		srv, err := socketio.New(&o)
		if err != nil {
			b.Fatal(err)
		}
		ts := httptest.NewServer(srv)
		b.Cleanup(ts.Close)
		b.Cleanup(func() { _ = srv.Close() })
		c.servers = append(c.servers, srv)
		urls = append(urls, "ws"+strings.TrimPrefix(ts.URL, "http")+"/socket.io/?EIO=4&transport=websocket")
	}
	// The servers know each other (FetchSockets asks the known ones).
	ctx, cancel := context.WithTimeout(b.Context(), benchTimeout)
	defer cancel()
	for _, srv := range c.servers {
		for {
			n, err := srv.ServerCount(ctx)
			if err == nil && n == servers {
				break
			}
			if ctx.Err() != nil {
				b.Fatalf("ServerCount %d, %v; want %d", n, err, servers)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	var readers sync.WaitGroup
	b.Cleanup(readers.Wait) // after the connections' Close
	dialer := websocket.Dialer{HandshakeTimeout: benchTimeout}
	for i := range clients {
		conn, _, err := dialer.Dial(urls[i%servers], nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = conn.Close() })
		_ = conn.SetReadDeadline(time.Now().Add(benchTimeout))
		if _, open, err := conn.ReadMessage(); err != nil || !strings.HasPrefix(string(open), "0{") {
			b.Fatalf("open: %q, %v", open, err)
		}
		if err := conn.WriteMessage(websocket.TextMessage, []byte("40")); err != nil {
			b.Fatal(err)
		}
		if _, ack, err := conn.ReadMessage(); err != nil || !strings.HasPrefix(string(ack), "40{") {
			b.Fatalf("connect: %q, %v", ack, err)
		}
		_ = conn.SetReadDeadline(time.Time{})
		cl := &benchClient{conn: conn}
		c.clients = append(c.clients, cl)
		readers.Go(cl.read)
	}
	return c
}

// read counts the events received until the connection ends, answering
// pings (the only writes once connected).
func (cl *benchClient) read() {
	for {
		_, m, err := cl.conn.ReadMessage()
		if err != nil {
			return
		}
		switch {
		case len(m) > 2 && m[0] == '4' && m[1] == '2':
			cl.events.Add(1)
		case string(m) == "2":
			_ = cl.conn.WriteMessage(websocket.TextMessage, []byte("3"))
		}
	}
}

// waitReceived waits until every client has received at least n events.
func (c *benchCluster) waitReceived(b *testing.B, n int64) {
	deadline := time.Now().Add(benchTimeout)
	for _, cl := range c.clients {
		for cl.events.Load() < n {
			if time.Now().After(deadline) {
				b.Fatalf("a client received %d events in %v, want %d", cl.events.Load(), benchTimeout, n)
			}
			time.Sleep(50 * time.Microsecond)
		}
	}
}
