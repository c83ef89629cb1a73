package adaptertest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/socketio/parser"
)

// closeCases check Close: operations afterwards neither panic nor reach a
// socket, Close is idempotent, and closing under load is safe.
var closeCases = []testCase{
	{name: "Close/OperationsAfterClose", run: testOperationsAfterClose},
	{name: "Close/Twice", run: testCloseTwice},
	{name: "Close/WhileBusy", run: testCloseWhileBusy},
}

// operations returns every adapter operation, as functions returning the
// error of the call (nil for those that return none). Operations that take
// a context get one bounded by the harness timeout.
func (c *cluster) operations(srv int, s *Socket) map[string]func() error {
	a := c.servers[srv].a
	ctx := c.ctx()
	opts := adapter.BroadcastOptions{Rooms: []string{"a"}, Except: []string{"b"}}
	return map[string]func() error{
		"AddAll":      func() error { a.AddAll(s, "z"); return nil },
		"Del":         func() error { a.Del(s.id, "a"); return nil },
		"DelAll":      func() error { a.DelAll(s.id); return nil },
		"SocketRooms": func() error { a.SocketRooms(s.id); return nil },
		"Rooms":       func() error { a.Rooms(); return nil },
		"Sockets":     func() error { a.Sockets("a"); return nil },
		"Broadcast": func() error {
			return a.Broadcast(eventPacket(c.marker("op")), adapter.BroadcastOptions{})
		},
		"BroadcastWithAck": func() error {
			return a.BroadcastWithAck(ctx, ackPacket(c.marker("op")), opts, func(int) {}, func(*parser.Packet) {})
		},
		"FetchSockets":      func() error { _, err := a.FetchSockets(ctx, opts); return err },
		"AddSockets":        func() error { return a.AddSockets(opts, []string{"y"}) },
		"DelSockets":        func() error { return a.DelSockets(opts, []string{"a"}) },
		"DisconnectSockets": func() error { return a.DisconnectSockets(adapter.BroadcastOptions{Rooms: []string{"c"}}, false) },
		"ServerSideEmit":    func() error { return a.ServerSideEmit(ssePlain(c.marker("op")), nil) },
		"ServerSideEmitWithAck": func() error {
			_, err := a.ServerSideEmitWithAck(ctx, ssePlain(c.marker("op")), nil)
			return err
		},
		"ServerCount": func() error { _, err := a.ServerCount(ctx); return err },
	}
}

func testOperationsAfterClose(t *testing.T, h *Harness, n int) {
	c := newCluster(t, h, n, replyWithIndex(nil))
	w := newWorld(c)
	mine := w.byServer[0]
	callsBefore := map[*Socket]int{}
	for _, s := range mine {
		callsBefore[s] = len(s.Calls())
	}
	require.NoError(t, noPanic(c.servers[0].a.Close), "Close")
	c.servers[0].closed = true

	late := c.newSocketWith(0, "late", nil)
	for name, op := range c.operations(0, mine[1]) {
		err := noPanic(op)
		assert.True(t, isClosedErr(err), "%s after Close: want nil or adapter.ErrClosed, got %v", name, err)
	}
	for name, op := range c.operations(0, late) {
		err := noPanic(op)
		assert.True(t, isClosedErr(err), "%s after Close (socket added after Close): want nil or adapter.ErrClosed, got %v", name, err)
	}
	for _, s := range mine {
		assert.Equal(t, callsBefore[s], len(s.Calls()), "a closed adapter acts on no socket: %s got %v", s.id, s.Calls()[callsBefore[s]:])
	}
	assert.Empty(t, late.Calls(), "a closed adapter acts on no socket")

	if n == 1 {
		return
	}
	// The other servers forget the closed one (Node's ADAPTER_CLOSE) ...
	ctx := c.ctx()
	for _, s := range c.servers[1:] {
		var last int
		c.eventually(func() bool {
			last, _ = s.a.ServerCount(ctx)
			return last == n-1
		}, "server %d: ServerCount after server 0 closed is %d, want %d", s.idx, last, n-1)
	}
	// ... no longer wait for its answers ...
	responses, err := c.servers[1].a.ServerSideEmitWithAck(ctx, ssePlain(c.marker("sse")), nil)
	assert.NoError(t, err, "ServerSideEmitWithAck must not wait for a closed server")
	assert.Len(t, responses, n-2, "answers of the live servers")
	// ... and their broadcasts no longer reach its sockets.
	name := c.marker("bc")
	p := eventPacket(name)
	require.NoError(t, c.servers[1].a.Broadcast(p, adapter.BroadcastOptions{}))
	c.fence(1)
	var live []*Socket
	for srv := 1; srv < n; srv++ {
		live = append(live, w.byServer[srv]...)
	}
	c.checkDelivered(t, name, p, adapter.BroadcastOptions{}, live)
}

func testCloseTwice(t *testing.T, h *Harness, n int) {
	c := newCluster(t, h, n, nil)
	newWorld(c)
	for _, s := range c.servers {
		for i := range 2 {
			err := noPanic(s.a.Close)
			assert.True(t, isClosedErr(err), "server %d: Close #%d: want nil or adapter.ErrClosed, got %v", s.idx, i+1, err)
		}
		s.closed = true
	}
}

// testCloseWhileBusy closes every server while goroutines run every
// operation on them: nothing may panic, deadlock or race.
func testCloseWhileBusy(t *testing.T, h *Harness, n int) {
	c := newCluster(t, h, n, replyWithIndex(nil))
	w := newWorld(c)
	var (
		wg   sync.WaitGroup
		stop atomic.Bool
		ops  atomic.Int64
	)
	errs := make(chan error, 64)
	for g := range 8 {
		srv := g % n
		s := w.byServer[srv][g%len(w.byServer[srv])]
		operations := c.operations(srv, s)
		wg.Go(func() {
			for i := 0; !stop.Load() && i < 10000; i++ {
				for name, op := range operations {
					if err := noPanic(op); err != nil && !isClosedErr(err) && !isContextErr(err) {
						select {
						case errs <- fmt.Errorf("%s: %w", name, err):
						default:
						}
					}
					ops.Add(1)
				}
			}
		})
	}
	time.Sleep(20 * time.Millisecond)
	for _, s := range c.servers {
		assert.NoError(t, noPanic(s.a.Close), "server %d: Close while busy", s.idx)
		s.closed = true
	}
	time.Sleep(20 * time.Millisecond)
	stop.Store(true)
	if !waitGroupWithin(&wg, 10*time.Second+h.Timeout) {
		t.Fatalf("operations did not return after Close (deadlock?):\n%s", goroutineDump())
	}
	close(errs)
	for err := range errs {
		t.Errorf("operation while closing: %v", err)
	}
	t.Logf("%d operations around Close", ops.Load())
}

// isContextErr reports whether err comes from a context being done, which
// a cluster request may return as a *adapter.PartialError while servers go
// away.
func isContextErr(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

// waitGroupWithin waits for wg at most d; it reports whether wg finished.
func waitGroupWithin(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}
