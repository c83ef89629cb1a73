package socketio

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/gosio/gosio/engineio"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// drain reads and discards a client's frames until its connection ends,
// answering pings and acking every event that asks for one.
func (c *rawClient) drain() {
	for {
		m, err := c.tryReadRaw()
		if err != nil {
			return
		}
		switch {
		case m == "2":
			_ = c.conn.WriteMessage(1, []byte("3"))
		case len(m) > 2 && m[:2] == "42" && m[2] >= '0' && m[2] <= '9':
			i := 2
			for i < len(m) && m[i] >= '0' && m[i] <= '9' {
				i++
			}
			_ = c.conn.WriteMessage(1, []byte("43"+m[2:i]+`["ok"]`))
		}
	}
}

// RELIABILITY row 22: many goroutines emit, emit with ack, join, leave,
// broadcast, fetch and disconnect at once, under -race; nothing races,
// deadlocks or panics, and the server stays consistent.
func TestStress_ConcurrentOperations(t *testing.T) {
	srv, url := newTestServer(t, nil)
	var connected atomic.Int64
	srv.OnConnection(func(ctx context.Context, s *Socket) error { connected.Add(1); return nil })
	srv.On("echo", func(ctx context.Context, ev *Event) error {
		if ev.HasAck() {
			return ev.Ack("echo")
		}
		return nil
	})
	const clients = 20
	var drained sync.WaitGroup
	for range clients {
		c := dial(t, url)
		c.connect("/")
		drained.Go(c.drain)
	}
	require.Eventually(t, func() bool { return connected.Load() == clients }, 5*time.Second, time.Millisecond)

	deadline := time.Now().Add(2 * time.Second)
	var wg sync.WaitGroup
	var ops atomic.Int64
	for g := range 200 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 7))
			for i := 0; i < 500 && time.Now().Before(deadline); i++ {
				ops.Add(1)
				sockets := srv.Of("/").Sockets()
				if len(sockets) == 0 {
					return
				}
				s := sockets[r.IntN(len(sockets))]
				room := fmt.Sprintf("r%d", r.IntN(5))
				switch r.IntN(8) {
				case 0:
					_ = s.Emit("tick", i)
				case 1:
					ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
					_, _ = s.EmitWithAck(ctx, "q", i)
					cancel()
				case 2:
					s.Join(room)
				case 3:
					s.Leave(room)
				case 4:
					_ = srv.To(room).Except("r0").Emit("room", i)
				case 5:
					_, _ = srv.In(room).FetchSockets(context.Background())
				case 6:
					_ = srv.In(room).SocketsJoin("r9")
				case 7:
					if g == 0 && i%100 == 99 {
						s.Disconnect(false) // a few sockets leave mid-storm
					} else {
						_ = srv.Volatile().Emit("v")
					}
				}
			}
		})
	}
	wg.Wait()
	t.Logf("%d operations", ops.Load())
	assert.Greater(t, ops.Load(), int64(2_000), "the storm did not happen")
	// Every room still in the adapter holds only live sockets.
	live := map[string]bool{}
	for _, s := range srv.Of("/").Sockets() {
		live[s.ID()] = true
	}
	a := srv.Of("/").Adapter()
	for _, room := range a.Rooms() {
		for _, id := range a.Sockets(room) {
			assert.True(t, live[id], "room %s holds departed socket %s", room, id)
		}
	}
	require.NoError(t, srv.Close())
	drained.Wait()
}

// RELIABILITY row 23: sockets connecting and going away in every way
// leave nothing behind, and each disconnect is reported exactly once.
func TestChurn_DisconnectOnce(t *testing.T) {
	srv, url := newTestServer(t, nil)
	var mu sync.Mutex
	disconnects := map[string]int{}
	srv.OnDisconnect(func(s *Socket, r Reason) {
		mu.Lock()
		disconnects[s.ID()]++
		mu.Unlock()
	})
	custom := srv.Of("/custom")
	custom.OnDisconnect(func(s *Socket, r Reason) {
		mu.Lock()
		disconnects[s.ID()]++
		mu.Unlock()
	})
	const n = 200
	for i := range n {
		c := dial(t, url)
		c.connect("/")
		c.connect("/custom")
		switch i % 4 {
		case 0:
			c.send("1")
			c.send("1/custom,")
			_ = c.conn.Close()
		case 1:
			_ = c.conn.Close()
		case 2:
			c.send(`2["x",`) // invalid: parse error
			c.expectClosed()
		case 3:
			c.send(`51-["up",{"_placeholder":true,"num":0}]`) // then vanish mid-attachment
			_ = c.conn.Close()
		}
	}
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(disconnects) == 2*n
	}, 10*time.Second, time.Millisecond)
	mu.Lock()
	for id, k := range disconnects {
		assert.Equal(t, 1, k, "socket %s", id)
	}
	mu.Unlock()
	assert.Empty(t, srv.Of("/").Sockets())
	assert.Empty(t, custom.Sockets())
	assert.Empty(t, srv.Of("/").Adapter().Rooms())
	assert.Zero(t, srv.Engine().ClientsCount())
}

// RELIABILITY row 26: many distinct dynamic namespaces, each used once,
// do not accumulate when CleanupEmptyChildNamespaces is on.
func TestDynamicNamespaces_Bounded(t *testing.T) {
	srv, url := newTestServer(t, &Options{CleanupEmptyChildNamespaces: true})
	parent := srv.OfFunc(func(name string, _ jsontext.Value) bool { return len(name) > 5 && name[:5] == "/dyn-" })
	c := dial(t, url)
	for i := range 1000 {
		nsp := fmt.Sprintf("/dyn-%d", i)
		c.connect(nsp)
		c.send("1" + nsp + ",")
	}
	require.Eventually(t, func() bool { return len(parent.Children()) == 0 }, 5*time.Second, time.Millisecond)
	srv.mu.RLock()
	n := len(srv.nsps)
	srv.mu.RUnlock()
	assert.Equal(t, 1, n, "only the main namespace is left")
}

// A handler that never returns fills its socket's queue; the reader then
// waits (backpressure), but the connection still closes when the client
// stops answering pings, and the socket's disconnect runs once the
// handler gives up on its context.
func TestWedgedHandler_ConnectionStillCloses(t *testing.T) {
	srv, url := newTestServer(t, &Options{Engine: engineio.Options{PingInterval: 200 * time.Millisecond, PingTimeout: 200 * time.Millisecond}})
	started := make(chan struct{}, 1)
	srv.On("wedge", func(ctx context.Context, ev *Event) error {
		select {
		case started <- struct{}{}:
		default:
		}
		<-ctx.Done() // stuck until the socket goes away
		return nil
	})
	reasons := make(chan Reason, 1)
	srv.OnDisconnect(func(s *Socket, r Reason) { reasons <- r })
	c := dial(t, url)
	c.connect("/")
	c.send(`2["wedge"]`)
	<-started
	// Far more events than the queue holds; the server's reader blocks.
	go func() {
		for range maxQueuedTasks + 50 {
			if c.conn.WriteMessage(1, []byte(`42["wedge"]`)) != nil {
				return
			}
		}
	}()
	// The blocked reader reads no pong: ping timeout ends it all.
	assert.Equal(t, ReasonPingTimeout, recv(t, reasons))
}
