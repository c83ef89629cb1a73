package adaptertest_test

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/adapter/memory"
	"github.com/gosio/gosio/socketio/parser"
)

// loopback is a toy cluster adapter for testing the suite's multi-server
// cases: each node is a memory adapter plus an inbox processed in order by
// one goroutine, and nodes reach each other through a hub, asynchronously,
// as a cluster adapter reaches its peers through a message bus.
type loopback struct {
	mu    sync.Mutex
	nodes []*node // live nodes
}

// factories returns the factories of an n-node cluster.
func (h *loopback) factories(n int) []adapter.Factory {
	out := make([]adapter.Factory, n)
	for i := range out {
		out[i] = func(ns adapter.Namespace) (adapter.Adapter, error) {
			nd := &node{hub: h, ns: ns, local: memory.NewAdapter(ns), wake: make(chan struct{}, 1), stop: make(chan struct{})}
			nd.wg.Add(1)
			go nd.loop()
			h.mu.Lock()
			h.nodes = append(h.nodes, nd)
			h.mu.Unlock()
			return nd, nil
		}
	}
	return out
}

// peers returns the live nodes but self.
func (h *loopback) peers(self *node) []*node {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.DeleteFunc(slices.Clone(h.nodes), func(nd *node) bool { return nd == self })
}

type node struct {
	hub   *loopback
	ns    adapter.Namespace
	local *memory.Adapter

	mu     sync.Mutex
	queue  []job
	closed bool
	wake   chan struct{}
	stop   chan struct{}
	wg     sync.WaitGroup
	once   sync.Once
}

// job is one message in a node's inbox; gone runs instead of run when the
// node closes first.
type job struct {
	run, gone func()
}

var _ adapter.Adapter = (*node)(nil)

// send queues j on nd; if nd is closed, j.gone runs at once.
func (nd *node) send(j job) {
	nd.mu.Lock()
	if nd.closed {
		nd.mu.Unlock()
		if j.gone != nil {
			j.gone()
		}
		return
	}
	nd.queue = append(nd.queue, j)
	nd.mu.Unlock()
	select {
	case nd.wake <- struct{}{}:
	default:
	}
}

func (nd *node) loop() {
	defer nd.wg.Done()
	for {
		select {
		case <-nd.stop:
			return
		case <-nd.wake:
		}
		for {
			nd.mu.Lock()
			if nd.closed || len(nd.queue) == 0 {
				nd.mu.Unlock()
				break
			}
			j := nd.queue[0]
			nd.queue = nd.queue[1:]
			nd.mu.Unlock()
			j.run()
		}
	}
}

func clonePacket(p *parser.Packet) *parser.Packet {
	q := *p
	q.Data = slices.Clone(p.Data)
	q.Attachments = cloneBytes(p.Attachments)
	return &q
}

func cloneBytes(b [][]byte) [][]byte {
	if b == nil {
		return nil
	}
	out := make([][]byte, len(b))
	for i, a := range b {
		out[i] = slices.Clone(a)
	}
	return out
}

func remoteOpts(opts adapter.BroadcastOptions) adapter.BroadcastOptions {
	opts.Rooms, opts.Except = slices.Clone(opts.Rooms), slices.Clone(opts.Except)
	opts.Flags.Local = true
	return opts
}

func (nd *node) AddAll(s adapter.LocalSocket, rooms ...string) { nd.local.AddAll(s, rooms...) }
func (nd *node) Del(id, room string)                           { nd.local.Del(id, room) }
func (nd *node) DelAll(id string)                              { nd.local.DelAll(id) }
func (nd *node) SocketRooms(id string) []string                { return nd.local.SocketRooms(id) }
func (nd *node) Rooms() []string                               { return nd.local.Rooms() }
func (nd *node) Sockets(rooms ...string) []string              { return nd.local.Sockets(rooms...) }

func (nd *node) isClosed() bool {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	return nd.closed
}

// each runs fn on every peer, unless opts is local or nd is closed.
func (nd *node) each(opts adapter.BroadcastOptions, fn func(peer *node)) {
	if opts.Flags.Local || nd.isClosed() {
		return
	}
	for _, peer := range nd.hub.peers(nd) {
		peer.send(job{run: func() { fn(peer) }})
	}
}

func (nd *node) Broadcast(p *parser.Packet, opts adapter.BroadcastOptions) error {
	_ = nd.local.Broadcast(p, opts)
	nd.each(opts, func(peer *node) { _ = peer.local.Broadcast(clonePacket(p), remoteOpts(opts)) })
	return nil
}

func (nd *node) BroadcastWithAck(ctx context.Context, p *parser.Packet, opts adapter.BroadcastOptions, onCount func(int), onAck func(*parser.Packet)) error {
	_ = nd.local.BroadcastWithAck(ctx, p, opts, onCount, onAck)
	timeout := opts.Flags.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	nd.each(opts, func(peer *node) {
		rctx, cancel := context.WithTimeout(context.Background(), timeout)
		context.AfterFunc(rctx, cancel)
		_ = peer.local.BroadcastWithAck(rctx, clonePacket(p), remoteOpts(opts),
			func(n int) { nd.send(job{run: func() { onCount(n) }}) },
			func(ack *parser.Packet) { ack = clonePacket(ack); nd.send(job{run: func() { onAck(ack) }}) })
	})
	return nil
}

// request runs fn on every peer (none if local) and collects one answer
// from each, until ctx is done; peers that close are not waited for.
func request[T any](ctx context.Context, nd *node, local bool, fn func(peer *node) T) ([]T, error) {
	if local || nd.isClosed() {
		return nil, nil
	}
	peers := nd.hub.peers(nd)
	type answer struct {
		v    T
		gone bool
	}
	ch := make(chan answer, len(peers))
	for _, peer := range peers {
		peer.send(job{run: func() { ch <- answer{v: fn(peer)} }, gone: func() { ch <- answer{gone: true} }})
	}
	var out []T
	expected := len(peers)
	for range peers {
		select {
		case a := <-ch:
			if a.gone {
				expected--
				continue
			}
			out = append(out, a.v)
		case <-ctx.Done():
			return out, &adapter.PartialError{Expected: expected, Received: len(out), Err: ctx.Err()}
		}
	}
	return out, nil
}

func (nd *node) FetchSockets(ctx context.Context, opts adapter.BroadcastOptions) ([]adapter.SocketInfo, error) {
	infos, _ := nd.local.FetchSockets(ctx, opts)
	remote, err := request(ctx, nd, opts.Flags.Local, func(peer *node) []adapter.SocketInfo {
		infos, _ := peer.local.FetchSockets(context.Background(), remoteOpts(opts))
		for i := range infos {
			infos[i].Local = nil // not a socket of the requesting server
			infos[i].Data = slices.Clone(infos[i].Data)
		}
		return infos
	})
	return slices.Concat(append([][]adapter.SocketInfo{infos}, remote...)...), err
}

func (nd *node) AddSockets(opts adapter.BroadcastOptions, rooms []string) error {
	_ = nd.local.AddSockets(opts, rooms)
	nd.each(opts, func(peer *node) { _ = peer.local.AddSockets(remoteOpts(opts), rooms) })
	return nil
}

func (nd *node) DelSockets(opts adapter.BroadcastOptions, rooms []string) error {
	_ = nd.local.DelSockets(opts, rooms)
	nd.each(opts, func(peer *node) { _ = peer.local.DelSockets(remoteOpts(opts), rooms) })
	return nil
}

func (nd *node) DisconnectSockets(opts adapter.BroadcastOptions, close bool) error {
	_ = nd.local.DisconnectSockets(opts, close)
	nd.each(opts, func(peer *node) { _ = peer.local.DisconnectSockets(remoteOpts(opts), close) })
	return nil
}

func (nd *node) ServerSideEmit(data jsontext.Value, attachments [][]byte) error {
	nd.each(adapter.BroadcastOptions{}, func(peer *node) {
		peer.ns.ServerSideEvent(slices.Clone(data), cloneBytes(attachments), nil)
	})
	return nil
}

func (nd *node) ServerSideEmitWithAck(ctx context.Context, data jsontext.Value, attachments [][]byte) ([]adapter.Response, error) {
	if nd.isClosed() {
		return nil, adapter.ErrClosed
	}
	peers := nd.hub.peers(nd)
	ch := make(chan adapter.Response, len(peers))
	gone := make(chan struct{}, len(peers))
	for _, peer := range peers {
		peer.send(job{
			run: func() {
				var once sync.Once
				peer.ns.ServerSideEvent(slices.Clone(data), cloneBytes(attachments), func(d jsontext.Value, a [][]byte) {
					once.Do(func() { ch <- adapter.Response{Data: slices.Clone(d), Attachments: cloneBytes(a)} })
				})
			},
			gone: func() { gone <- struct{}{} },
		})
	}
	var out []adapter.Response
	expected := len(peers)
	for len(out) < expected {
		select {
		case r := <-ch:
			out = append(out, r)
		case <-gone:
			expected--
		case <-ctx.Done():
			return out, &adapter.PartialError{Expected: expected, Received: len(out), Err: ctx.Err()}
		}
	}
	return out, nil
}

func (nd *node) ServerCount(context.Context) (int, error) {
	nd.hub.mu.Lock()
	defer nd.hub.mu.Unlock()
	return len(nd.hub.nodes), nil
}

// Close removes the node from the hub, fails what is still queued for it,
// and stops its goroutine.
func (nd *node) Close() error {
	nd.once.Do(func() {
		nd.hub.mu.Lock()
		nd.hub.nodes = slices.DeleteFunc(nd.hub.nodes, func(x *node) bool { return x == nd })
		nd.hub.mu.Unlock()
		nd.mu.Lock()
		nd.closed = true
		queued := nd.queue
		nd.queue = nil
		nd.mu.Unlock()
		close(nd.stop)
		nd.wg.Wait()
		for _, j := range queued {
			if j.gone != nil {
				j.gone()
			}
		}
		_ = nd.local.Close()
	})
	return nil
}

// PersistSession keeps sessions on this node only (the loopback cluster
// does not share them).
func (nd *node) PersistSession(s *adapter.Session) { nd.local.PersistSession(s) }

// RestoreSession looks on this node only.
func (nd *node) RestoreSession(ctx context.Context, pid, offset string) (*adapter.Session, error) {
	return nd.local.RestoreSession(ctx, pid, offset)
}
