package natsadapter_test

// Fault tests of the NATS adapter: RELIABILITY.md rows 30–40, at the
// adapter level, with fake sockets and namespaces from adapter/adaptertest.
// The tests are ordered by row; each one's doc comment names its row.

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/adapter/adaptertest"
	natsadapter "github.com/gosio/gosio/adapter/nats"
	"github.com/gosio/gosio/adapter/nats/internal/wire"
	"github.com/gosio/gosio/adapter/nats/natsembed"
	"github.com/gosio/gosio/internal/leakcheck"
	"github.com/gosio/gosio/socketio/parser"
)

// faultWaitTimeout bounds every wait for something that should happen
// soon; the machine is shared, so it is generous.
const faultWaitTimeout = 10 * time.Second

// faultHeartbeat is the short heartbeat of these tests: peers are dropped
// after a second of silence.
var faultHeartbeat = natsadapter.WithHeartbeat(100*time.Millisecond, time.Second)

// faultQuiet replaces nats.go's default handler of asynchronous errors,
// which prints the slow consumers and permission violations these tests
// cause on purpose; the adapter reports them itself.
var faultQuiet = nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {})

// faultNode is one simulated Socket.IO server: a namespace "/" with its
// adapter, over its own NATS connection, and (unless created without a
// name) one recording socket whose id is the name.
type faultNode struct {
	a    *natsadapter.Adapter
	nc   *nats.Conn
	sock *adaptertest.Socket
}

// faultReplying returns a fake namespace that answers every server-side
// event with [name].
func faultReplying(name string) *adaptertest.Namespace {
	return adaptertest.NewNamespace("/", func(jsontext.Value, [][]byte) (jsontext.Value, [][]byte) {
		return jsontext.Value(fmt.Sprintf("[%q]", name)), nil
	})
}

// faultStart creates the adapter of ns over nc and, when name is not
// empty, a socket called name in its own room. The adapter is closed at
// the end of the test (before nc, whose Cleanup was registered first).
func faultStart(t *testing.T, nc *nats.Conn, ns adapter.Namespace, name string, opts ...natsadapter.Option) *faultNode {
	t.Helper()
	ad, err := natsadapter.New(nc, opts...)(ns)
	require.NoError(t, err, "factory of %q", name)
	a, ok := ad.(*natsadapter.Adapter)
	require.True(t, ok, "the factory returns a *natsadapter.Adapter, got %T", ad)
	t.Cleanup(func() { _ = a.Close() })
	n := &faultNode{a: a, nc: nc}
	if name != "" {
		n.sock = adaptertest.NewSocket(a, name)
		a.AddAll(n.sock, name)
	}
	return n
}

// faultCluster starts one server per connection, server i with socket
// "s<i>" and the namespace namespaces[i] (a namespace answering ["s<i>"]
// when namespaces is short or the entry nil), and waits until every server
// counts them all.
func faultCluster(t *testing.T, conns []*nats.Conn, namespaces []adapter.Namespace, opts ...natsadapter.Option) []*faultNode {
	t.Helper()
	nodes := make([]*faultNode, len(conns))
	for i, nc := range conns {
		name := fmt.Sprintf("s%d", i)
		var ns adapter.Namespace = faultReplying(name)
		if i < len(namespaces) && namespaces[i] != nil {
			ns = namespaces[i]
		}
		nodes[i] = faultStart(t, nc, ns, name, opts...)
	}
	faultWaitCount(t, nodes, len(nodes))
	return nodes
}

// faultConns opens n connections to srv.
func faultConns(t *testing.T, srv *natsembed.Server, n int) []*nats.Conn {
	t.Helper()
	out := make([]*nats.Conn, n)
	for i := range out {
		out[i] = connect(t, srv)
	}
	return out
}

// faultWait polls cond every 10 ms until it holds, and fails the test if
// it does not within timeout.
func faultWait(t *testing.T, timeout time.Duration, cond func() bool, format string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: "+format, append([]any{timeout}, args...)...)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// faultCount returns a's ServerCount.
func faultCount(a *natsadapter.Adapter) int {
	n, _ := a.ServerCount(context.Background())
	return n
}

// faultWaitCount waits until every node counts n servers.
func faultWaitCount(t *testing.T, nodes []*faultNode, n int) {
	t.Helper()
	for i, node := range nodes {
		faultWait(t, faultWaitTimeout, func() bool { return faultCount(node.a) == n },
			"server %d counts %d servers, want %d", i, faultCount(node.a), n)
	}
}

// faultEvent returns the EVENT packet ["name"] of namespace "/".
func faultEvent(name string) *parser.Packet {
	return &parser.Packet{Type: parser.Event, Namespace: "/", Data: jsontext.Value(fmt.Sprintf("[%q]", name))}
}

// faultNames returns the event names delivered to s, in order.
func faultNames(s *adaptertest.Socket) []string {
	var out []string
	for _, d := range s.Deliveries() {
		var v []any
		if err := json.Unmarshal(d.Encoded.Packet.Data, &v); err != nil || len(v) == 0 {
			out = append(out, "?"+string(d.Encoded.Packet.Data))
			continue
		}
		name, _ := v[0].(string)
		out = append(out, name)
	}
	return out
}

// faultGot reports how many times s received the event name.
func faultGot(s *adaptertest.Socket, name string) int {
	n := 0
	for _, got := range faultNames(s) {
		if got == name {
			n++
		}
	}
	return n
}

// faultGotPrefix reports whether s received an event whose name starts
// with prefix.
func faultGotPrefix(s *adaptertest.Socket, prefix string) bool {
	return slices.ContainsFunc(faultNames(s), func(n string) bool { return strings.HasPrefix(n, prefix) })
}

// faultIDs returns the sorted socket ids of infos.
func faultIDs(infos []adapter.SocketInfo) []string {
	out := make([]string, 0, len(infos))
	for _, info := range infos {
		out = append(out, info.ID)
	}
	slices.Sort(out)
	return out
}

// faultAnswers returns the sorted first arguments (strings) of
// ServerSideEmitWithAck answers.
func faultAnswers(t *testing.T, rs []adapter.Response) []string {
	t.Helper()
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		var v []string
		require.NoError(t, json.Unmarshal(r.Data, &v), "answer %s", r.Data)
		require.Len(t, v, 1, "answer %s", r.Data)
		out = append(out, v[0])
	}
	slices.Sort(out)
	return out
}

// faultPing is the server-side event of the tests.
var faultPing = jsontext.Value(`["ping"]`)

// faultLogs records the log records of an adapter.
type faultLogs struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (l *faultLogs) logger() *slog.Logger { return slog.New(faultLogHandler{l}) }

// matching returns the records at level whose message contains substr.
func (l *faultLogs) matching(level slog.Level, substr string) []slog.Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []slog.Record
	for _, r := range l.recs {
		if r.Level == level && strings.Contains(r.Message, substr) {
			out = append(out, r)
		}
	}
	return out
}

// faultLogHandler is a slog.Handler that records every record (at every
// level) in a faultLogs.
type faultLogHandler struct{ l *faultLogs }

func (h faultLogHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h faultLogHandler) Handle(_ context.Context, r slog.Record) error {
	h.l.mu.Lock()
	h.l.recs = append(h.l.recs, r.Clone())
	h.l.mu.Unlock()
	return nil
}

func (h faultLogHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h faultLogHandler) WithGroup(string) slog.Handler      { return h }

// faultAttrErr returns the error of r's "err" attribute, or nil.
func faultAttrErr(r slog.Record) error {
	var err error
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "err" {
			err, _ = a.Value.Any().(error)
			return false
		}
		return true
	})
	return err
}

// ---------------------------------------------------------------- row 30

// TestFault_NATSRestart covers RELIABILITY.md row 30 (NATS server
// restart): three servers on their own TCP connections, which reconnect
// for ever. Cross-server broadcasts work before; while NATS is down a
// broadcast still reaches the local socket and fails fast with
// ErrNotConnected (and is never delivered elsewhere later: nothing is
// buffered); after a new NATS server starts on the same port every server
// reaches every other again and the peer lists converge to 3. TestMain's
// leak check covers the goroutines.
func TestFault_NATSRestart(t *testing.T) {
	srv := embedded(t, &natsembed.Options{Addr: "127.0.0.1:0"})
	addr, ok := srv.NATS().Addr().(*net.TCPAddr)
	require.True(t, ok, "TCP listener address, got %v", srv.NATS().Addr())
	url := srv.ClientURL()
	prefix := newPrefix()

	var nodes []*faultNode
	for i := range 3 {
		nc, err := nats.Connect(url, nats.Timeout(10*time.Second), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
		require.NoError(t, err)
		t.Cleanup(nc.Close)
		name := fmt.Sprintf("s%d", i)
		nodes = append(nodes, faultStart(t, nc, faultReplying(name), name,
			natsadapter.WithSubjectPrefix(prefix), faultHeartbeat))
	}
	faultWaitCount(t, nodes, 3)

	for i, n := range nodes {
		require.NoError(t, n.a.Broadcast(faultEvent(fmt.Sprintf("before-%d", i)), adapter.BroadcastOptions{}))
	}
	for j, m := range nodes {
		for i := range nodes {
			name := fmt.Sprintf("before-%d", i)
			faultWait(t, faultWaitTimeout, func() bool { return faultGot(m.sock, name) == 1 },
				"before the outage, socket of server %d receives %s once", j, name)
		}
	}

	srv.Shutdown()
	for i, n := range nodes {
		faultWait(t, faultWaitTimeout, func() bool { return !n.nc.IsConnected() },
			"connection of server %d notices the outage", i)
	}
	err := nodes[0].a.Broadcast(faultEvent("outage"), adapter.BroadcastOptions{})
	require.ErrorIs(t, err, natsadapter.ErrNotConnected, "a broadcast during the outage fails fast")
	assert.Equal(t, 1, faultGot(nodes[0].sock, "outage"), "during the outage, local delivery still happens")

	embedded(t, &natsembed.Options{Addr: addr.String()})

	// Poll until every server counts 3 and has received a broadcast from
	// every other; the broadcasts are repeated every 100 ms, since those
	// sent before a server has resubscribed are lost.
	round := 0
	faultWait(t, 15*time.Second, func() bool {
		done := true
		for i, n := range nodes {
			if faultCount(n.a) != 3 {
				done = false
			}
			for j, m := range nodes {
				if i != j && !faultGotPrefix(m.sock, fmt.Sprintf("after-%d-", i)) {
					done = false
				}
			}
		}
		if !done && round%10 == 0 {
			for i, n := range nodes {
				_ = n.a.Broadcast(faultEvent(fmt.Sprintf("after-%d-%d", i, round)), adapter.BroadcastOptions{})
			}
		}
		round++
		return done
	}, "after the restart, every server counts 3 servers and reaches every other (counts %d %d %d)",
		faultCount(nodes[0].a), faultCount(nodes[1].a), faultCount(nodes[2].a))

	for i, n := range nodes[1:] {
		assert.Zero(t, faultGot(n.sock, "outage"), "server %d: what was sent during the outage is lost, not replayed", i+1)
	}
}

// ---------------------------------------------------------------- row 31

// TestFault_SlowConsumer covers RELIABILITY.md row 31 (slow consumer):
// while the adapter's message callback is blocked, a peer floods it with
// 2000 broadcasts; beyond the pending limits (100 messages) NATS drops
// messages, which the adapter logs exactly once at Error ("slow consumer",
// wrapping nats.ErrSlowConsumer); once unblocked it delivers again.
func TestFault_SlowConsumer(t *testing.T) {
	srv := embedded(t, nil)
	prefix := newPrefix()
	logs := &faultLogs{}
	release := make(chan struct{})
	var armed atomic.Bool
	hook := func() {
		if armed.Load() {
			<-release
		}
	}
	var once sync.Once
	unblock := func() { once.Do(func() { armed.Store(false); close(release) }) }

	a := faultStart(t, connect(t, srv, faultQuiet), adaptertest.NewNamespace("/", nil), "s0", natsadapter.WithSubjectPrefix(prefix), faultHeartbeat,
		natsadapter.WithPendingLimits(100, 1<<20), natsadapter.WithLogger(logs.logger()), natsadapter.WithTestHook(hook))
	t.Cleanup(unblock) // registered after a's Close, so it runs before it if the test fails early
	b := faultStart(t, connect(t, srv), faultReplying("s1"), "", natsadapter.WithSubjectPrefix(prefix), faultHeartbeat)
	faultWaitCount(t, []*faultNode{a, b}, 2)

	// Blocks a's next callback: the flood that follows piles up.
	armed.Store(true)
	const flood = 2000
	for i := range flood {
		require.NoError(t, b.a.Broadcast(faultEvent(fmt.Sprintf("flood-%d", i)), adapter.BroadcastOptions{}))
	}
	require.NoError(t, b.nc.Flush())

	faultWait(t, faultWaitTimeout, func() bool { return len(logs.matching(slog.LevelError, "slow consumer")) > 0 },
		"an Error record about the slow consumer")
	unblock()

	// The tail of the flood may still be arriving and overflowing the
	// pending limits, which drops what comes with it: repeat the later
	// broadcast every 100 ms until one is delivered.
	round := 0
	faultWait(t, faultWaitTimeout, func() bool {
		if faultGotPrefix(a.sock, "after-") {
			return true
		}
		if round%10 == 0 {
			require.NoError(t, b.a.Broadcast(faultEvent(fmt.Sprintf("after-%d", round)), adapter.BroadcastOptions{}))
		}
		round++
		return false
	}, "after the flood, a later broadcast is delivered")

	recs := logs.matching(slog.LevelError, "slow consumer")
	require.Len(t, recs, 1, "the slow consumer is reported once")
	assert.ErrorIs(t, faultAttrErr(recs[0]), nats.ErrSlowConsumer, "the record's err attribute")
	floods := 0
	for _, name := range faultNames(a.sock) {
		if strings.HasPrefix(name, "flood-") {
			floods++
		}
	}
	assert.Less(t, floods, flood, "NATS dropped part of the flood (pending limits)")
}

// ---------------------------------------------------------------- row 32

// TestFault_PeerDiesWithoutGoodbye covers RELIABILITY.md row 32 (a peer
// dies mid-request): server C's NATS connection is closed without
// ADAPTER_CLOSE. Requests from A then return A's and B's results; those
// whose deadline comes before C is dropped carry an *adapter.PartialError
// naming C; those in flight when C is dropped (after the heartbeat
// timeout) complete at once, with no error and long before their 30 s
// deadline. A and B then count 2 servers.
func TestFault_PeerDiesWithoutGoodbye(t *testing.T) {
	srv := embedded(t, nil)
	nodes := faultCluster(t, faultConns(t, srv, 3), nil, natsadapter.WithSubjectPrefix(newPrefix()), faultHeartbeat)
	a, b, c := nodes[0], nodes[1], nodes[2]

	c.nc.Close() // the process dies: no goodbye
	t.Logf("A counts %d servers right after C died", faultCount(a.a))

	type result struct {
		ids, answers []string
		err          error
		elapsed      time.Duration
	}
	fetched, emitted := make(chan result, 1), make(chan result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		start := time.Now()
		infos, err := a.a.FetchSockets(ctx, adapter.BroadcastOptions{})
		fetched <- result{ids: faultIDs(infos), err: err, elapsed: time.Since(start)}
	}()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		start := time.Now()
		rs, err := a.a.ServerSideEmitWithAck(ctx, faultPing, nil)
		r := result{err: err, elapsed: time.Since(start)}
		for _, x := range rs {
			r.answers = append(r.answers, string(x.Data))
		}
		emitted <- r
	}()

	// Short deadlines: C is very likely still counted when they expire.
	checkPartial := func(what string, err error) {
		t.Helper()
		if err == nil {
			t.Logf("%s: C was dropped before the 300 ms deadline", what)
			assert.Equal(t, 2, faultCount(a.a), "%s: no error, so C must have been dropped already", what)
			return
		}
		var pe *adapter.PartialError
		require.ErrorAs(t, err, &pe, "%s", what)
		assert.Equal(t, []string{c.a.UID()}, pe.Missing, "%s: Missing names C", what)
		assert.Equal(t, 2, pe.Expected, "%s: Expected", what)
		assert.Equal(t, 1, pe.Received, "%s: Received", what)
		assert.ErrorIs(t, err, context.DeadlineExceeded, "%s", what)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	infos, err := a.a.FetchSockets(ctx, adapter.BroadcastOptions{})
	cancel()
	assert.Equal(t, []string{"s0", "s1"}, faultIDs(infos), "FetchSockets: A's and B's sockets")
	checkPartial("FetchSockets", err)
	ctx, cancel = context.WithTimeout(context.Background(), 300*time.Millisecond)
	rs, err := a.a.ServerSideEmitWithAck(ctx, faultPing, nil)
	cancel()
	assert.Equal(t, []string{"s1"}, faultAnswers(t, rs), "ServerSideEmitWithAck: B's answer")
	checkPartial("ServerSideEmitWithAck", err)

	for what, ch := range map[string]chan result{"FetchSockets": fetched, "ServerSideEmitWithAck": emitted} {
		select {
		case r := <-ch:
			assert.NoError(t, r.err, "%s in flight when C is dropped", what)
			assert.Less(t, r.elapsed, 10*time.Second, "%s returns when C is dropped, not at its 30 s deadline", what)
			if what == "FetchSockets" {
				assert.Equal(t, []string{"s0", "s1"}, r.ids, "%s: A's and B's sockets", what)
			} else {
				assert.Equal(t, []string{`["s1"]`}, r.answers, "%s: B's answer", what)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%s in flight when C died did not return within 20 s", what)
		}
	}

	faultWaitCount(t, nodes[:2], 2)
	assert.Equal(t, 2, faultCount(b.a))
	require.NoError(t, c.a.Close(), "closing the adapter of the dead server")
}

// ---------------------------------------------------------------- row 33

// TestFault_ZeroPeers covers RELIABILITY.md row 33 (no responders): alone
// in its cluster, an adapter answers FetchSockets and
// ServerSideEmitWithAck at once with its local results and no error,
// although their deadline is 30 s.
func TestFault_ZeroPeers(t *testing.T) {
	srv := embedded(t, nil)
	n := faultStart(t, connect(t, srv), faultReplying("s0"), "s0", natsadapter.WithSubjectPrefix(newPrefix()), faultHeartbeat)
	require.Equal(t, 1, faultCount(n.a))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	infos, err := n.a.FetchSockets(ctx, adapter.BroadcastOptions{})
	require.NoError(t, err)
	assert.Equal(t, []string{"s0"}, faultIDs(infos))
	rs, err := n.a.ServerSideEmitWithAck(ctx, faultPing, nil)
	require.NoError(t, err)
	assert.Empty(t, rs)
	assert.Less(t, time.Since(start), 10*time.Second, "no peer: no wait for the 30 s deadline")
}

// faultLateNamespace is a fake namespace that keeps the reply functions
// of the server-side events it receives, for the test to call later.
type faultLateNamespace struct {
	mu      sync.Mutex
	replies []func(jsontext.Value, [][]byte)
}

func (n *faultLateNamespace) Name() string                  { return "/" }
func (n *faultLateNamespace) RecoveryWindow() time.Duration { return 0 }

func (n *faultLateNamespace) ServerSideEvent(_ jsontext.Value, _ [][]byte, reply func(jsontext.Value, [][]byte)) {
	if reply != nil {
		n.mu.Lock()
		n.replies = append(n.replies, reply)
		n.mu.Unlock()
	}
}

func (n *faultLateNamespace) pending() []func(jsontext.Value, [][]byte) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.replies)
}

// TestFault_RequestDeadline covers RELIABILITY.md row 33 (request
// timeouts): with a peer that does not answer, ServerSideEmitWithAck
// returns at its 300 ms deadline with a PartialError wrapping
// context.DeadlineExceeded. The answer that comes after the deadline is
// dropped without panic, and is not taken for the answer to the next
// request (which it precedes on the wire).
func TestFault_RequestDeadline(t *testing.T) {
	srv := embedded(t, nil)
	late := &faultLateNamespace{}
	nodes := faultCluster(t, faultConns(t, srv, 2), []adapter.Namespace{nil, late},
		natsadapter.WithSubjectPrefix(newPrefix()), faultHeartbeat)
	a, b := nodes[0], nodes[1]

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	start := time.Now()
	rs, err := a.a.ServerSideEmitWithAck(ctx, faultPing, nil)
	elapsed := time.Since(start)
	cancel()
	assert.Empty(t, rs)
	var pe *adapter.PartialError
	require.ErrorAs(t, err, &pe)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, []string{b.a.UID()}, pe.Missing)
	assert.Equal(t, 1, pe.Expected)
	assert.Zero(t, pe.Received)
	assert.GreaterOrEqual(t, elapsed, 300*time.Millisecond, "not before the deadline")
	assert.Less(t, elapsed, 5*time.Second, "soon after the deadline")

	faultWait(t, faultWaitTimeout, func() bool { return len(late.pending()) == 1 }, "B receives the first request")
	type result struct {
		answers []string
		err     error
	}
	done := make(chan result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		rs, err := a.a.ServerSideEmitWithAck(ctx, faultPing, nil)
		r := result{err: err}
		for _, x := range rs {
			r.answers = append(r.answers, string(x.Data))
		}
		done <- r
	}()
	faultWait(t, faultWaitTimeout, func() bool { return len(late.pending()) == 2 }, "B receives the second request")
	replies := late.pending()
	replies[0](jsontext.Value(`["late"]`), nil) // after its request's deadline
	replies[1](jsontext.Value(`["fresh"]`), nil)
	select {
	case r := <-done:
		require.NoError(t, r.err)
		assert.Equal(t, []string{`["fresh"]`}, r.answers, "the late answer is dropped, the fresh one counted")
	case <-time.After(20 * time.Second):
		t.Fatal("the second request did not complete")
	}
	assert.Equal(t, 2, faultCount(a.a), "the cluster is intact")
}

// ---------------------------------------------------------------- row 34

// TestFault_MaxPayload covers RELIABILITY.md row 34 (payload above NATS
// max_payload): with a 64 KiB max_payload a 100 KiB broadcast reaches
// the local socket and returns an error wrapping ErrPayloadTooLarge and
// nats.ErrMaxPayload; the other servers never receive it, yet a small
// broadcast sent after it arrives (and, per-publisher order, the large one
// would have come first).
func TestFault_MaxPayload(t *testing.T) {
	srv := embedded(t, &natsembed.Options{MaxPayload: 64 << 10})
	nodes := faultCluster(t, faultConns(t, srv, 3), nil, natsadapter.WithSubjectPrefix(newPrefix()), faultHeartbeat)
	a := nodes[0]

	big := &parser.Packet{Type: parser.Event, Namespace: "/",
		Data: jsontext.Value(`["big","` + strings.Repeat("x", 100<<10) + `"]`)}
	err := a.a.Broadcast(big, adapter.BroadcastOptions{})
	require.ErrorIs(t, err, natsadapter.ErrPayloadTooLarge)
	require.ErrorIs(t, err, nats.ErrMaxPayload)
	assert.Equal(t, 1, faultGot(a.sock, "big"), "local delivery happens anyway")

	err = a.a.ServerSideEmit(jsontext.Value(`["big","`+strings.Repeat("y", 100<<10)+`"]`), nil)
	assert.ErrorIs(t, err, natsadapter.ErrPayloadTooLarge, "a too large server-side event")

	require.NoError(t, a.a.Broadcast(faultEvent("small"), adapter.BroadcastOptions{}))
	for i, n := range nodes[1:] {
		faultWait(t, faultWaitTimeout, func() bool { return faultGot(n.sock, "small") == 1 },
			"server %d receives the small broadcast", i+1)
		assert.Equal(t, []string{"small"}, faultNames(n.sock), "server %d never receives the large one", i+1)
	}
	assert.Equal(t, []string{"big", "small"}, faultNames(a.sock))
}

// ---------------------------------------------------------------- row 35

// TestFault_Junk covers RELIABILITY.md row 35 (garbage on the adapter's
// subjects): random bytes, MessagePack of the wrong shape, truncated
// messages, unknown message types, another namespace's broadcast,
// broadcasts of non-EVENT packets, answers to unknown requests, commands
// on the answer subject and a message spoofing the adapter's own uid are
// published on both of its subjects. Nothing panics, no junk is
// delivered or counted as a peer, each undecodable message is logged at
// Debug, and the adapter goes on working.
func TestFault_Junk(t *testing.T) {
	srv := embedded(t, nil)
	prefix := newPrefix()
	logs := &faultLogs{}
	a := faultStart(t, connect(t, srv), faultReplying("s0"), "s0",
		natsadapter.WithSubjectPrefix(prefix), faultHeartbeat, natsadapter.WithLogger(logs.logger()))
	b := faultStart(t, connect(t, srv), faultReplying("s1"), "s1", natsadapter.WithSubjectPrefix(prefix), faultHeartbeat)
	nodes := []*faultNode{a, b}
	faultWaitCount(t, nodes, 2)

	subject := prefix + "." + natsadapter.SubjectToken("/")
	inbox := subject + "." + a.a.UID()
	aUID, bUID := a.a.UID(), b.a.UID()

	var junk [][]byte
	rnd := rand.New(rand.NewPCG(35, 35))
	for i := range 40 {
		p := make([]byte, rnd.IntN(300))
		for j := range p {
			p[j] = byte(rnd.UintN(256))
		}
		if i%4 == 0 && len(p) > 0 {
			p[0] = 0x84 // a map of 4 entries, as a real message starts
		}
		junk = append(junk, p)
	}
	mp := func(v any) []byte {
		b, err := msgpack.Marshal(v)
		require.NoError(t, err)
		return b
	}
	enc := func(m *wire.Message) []byte {
		b, err := wire.Encode(m)
		require.NoError(t, err)
		return b
	}
	event := func(name string) wire.WirePacket {
		return wire.WirePacket{Type: wire.PacketEvent, Data: []any{name}, Nsp: "/"}
	}
	bcast := func(uid, nsp string, p wire.WirePacket, requestID string) []byte {
		return enc(&wire.Message{UID: uid, NSP: nsp, Type: wire.Broadcast, Data: &wire.BroadcastData{
			Opts: wire.Opts{Rooms: []string{}, Except: []string{}}, Packet: p, RequestID: requestID}})
	}
	valid := bcast(bUID, "/", event("junk-truncated"), "")
	sock, err := wire.SocketFromInfo(adaptertest.SocketInfo("junk-socket"))
	require.NoError(t, err)
	junk = append(junk,
		nil,
		[]byte{0xc1},
		valid[:len(valid)/2],
		mp([]any{1, 2, 3}),
		mp("hello"),
		mp(nil),
		mp(map[string]any{"nsp": "/", "type": 3}),
		mp(map[string]any{"uid": 42, "nsp": "/", "type": 2}),
		mp(map[string]any{"uid": "junk-peer", "nsp": "/", "type": "3"}),
		mp(map[string]any{"uid": bUID, "nsp": "/", "type": 3}),
		mp(map[string]any{"uid": bUID, "nsp": "/", "type": 3, "data": []any{1, 2}}),
		mp(map[string]any{"uid": bUID, "nsp": "/", "type": 3, "data": map[string]any{"opts": "x", "packet": map[string]any{}}}),
		mp(map[string]any{"uid": bUID, "nsp": "/", "type": 8, "data": map[string]any{"requestId": 5}}),
		mp(map[string]any{"uid": "junk-peer", "nsp": "/", "type": 99}),
		mp(map[string]any{"uid": "junk-peer", "nsp": "/", "type": 0}),
		mp(map[string]any{"uid": "junk-peer", "nsp": "/", "type": -1}),
		// Well formed, but for another namespace.
		bcast("junk-peer", "/other", event("junk-other-nsp"), ""),
		// Broadcasts of packets that are not events.
		bcast(bUID, "/", wire.WirePacket{Type: int(parser.Connect), Data: map[string]any{"sid": "x"}, Nsp: "/"}, ""),
		bcast(bUID, "/", wire.WirePacket{Type: int(parser.Disconnect), Nsp: "/"}, ""),
		bcast(bUID, "/", wire.WirePacket{Type: wire.PacketAck, Data: []any{"junk-ack"}, Nsp: "/", ID: 1, HasID: true}, ""),
		bcast(bUID, "/", wire.WirePacket{Type: 99, Data: []any{"junk-type-99"}, Nsp: "/"}, ""),
		// A broadcast asking for acks, without an ack id.
		bcast(bUID, "/", event("junk-ack-without-id"), "req-junk"),
		// Answers to requests never made.
		enc(&wire.Message{UID: bUID, NSP: "/", Type: wire.FetchSocketsResponse, Data: &wire.FetchSocketsResponseData{
			RequestID: "unknown", Sockets: []wire.Socket{sock}}}),
		enc(&wire.Message{UID: bUID, NSP: "/", Type: wire.ServerSideEmitResponse, Data: &wire.ServerSideEmitResponseData{
			RequestID: "unknown", Packet: "junk"}}),
		enc(&wire.Message{UID: bUID, NSP: "/", Type: wire.BroadcastClientCount, Data: &wire.BroadcastClientCountData{
			RequestID: "unknown", ClientCount: 3}}),
		enc(&wire.Message{UID: bUID, NSP: "/", Type: wire.BroadcastAck, Data: &wire.BroadcastAckData{
			RequestID: "unknown", Packet: "junk"}}),
		// Someone else using a's uid: taken for a's own echo by a.
		bcast(aUID, "/", event("junk-spoof"), ""),
	)
	invalid := 0
	raw := connect(t, srv)
	for _, p := range junk {
		if _, err := wire.Decode(p); err != nil {
			invalid++
		}
		require.NoError(t, raw.Publish(subject, p))
		require.NoError(t, raw.Publish(inbox, p))
	}
	require.NoError(t, raw.Flush()) // NATS has queued all of it to a and b

	// Every subscription of a handles its messages in order: what comes
	// after the junk proves the junk was handled.
	require.NoError(t, b.a.Broadcast(faultEvent("after-junk"), adapter.BroadcastOptions{}))
	faultWait(t, faultWaitTimeout, func() bool { return faultGot(a.sock, "after-junk") == 1 }, "a still receives broadcasts")
	ctx, cancel := context.WithTimeout(context.Background(), faultWaitTimeout)
	defer cancel()
	infos, err := a.a.FetchSockets(ctx, adapter.BroadcastOptions{})
	require.NoError(t, err, "a's requests still complete")
	assert.Equal(t, []string{"s0", "s1"}, faultIDs(infos))
	require.NoError(t, a.a.Broadcast(faultEvent("after-a"), adapter.BroadcastOptions{}))
	faultWait(t, faultWaitTimeout, func() bool { return faultGot(b.sock, "after-a") == 1 }, "a still reaches b")

	assert.Equal(t, []string{"after-junk", "after-a"}, faultNames(a.sock), "no junk reaches a's socket")
	// b reads the namespace subject too: for b the spoofed message is a
	// broadcast from a, the rest is junk.
	assert.ElementsMatch(t, []string{"junk-spoof", "after-junk", "after-a"}, faultNames(b.sock))
	for i, n := range nodes {
		assert.Equal(t, 2, faultCount(n.a), "server %d: junk adds no peer", i)
	}
	assert.Len(t, logs.matching(slog.LevelDebug, "invalid message dropped"), 2*invalid,
		"each undecodable message (%d, on two subjects) is logged at Debug", invalid)
	assert.Empty(t, logs.matching(slog.LevelError, ""), "junk is not an Error")
}

// ---------------------------------------------------------------- row 36

// TestFault_EchoAndLocal covers RELIABILITY.md row 36 (echo and duplicate
// delivery): with three servers, broadcasts with Local, with Except and
// plain reach each target exactly once (a server ignores its own
// messages echoed by NATS), and a Local broadcast publishes nothing on
// the wire (watched by a raw NATS subscriber).
func TestFault_EchoAndLocal(t *testing.T) {
	srv := embedded(t, nil)
	prefix := newPrefix()
	raw := connect(t, srv)
	wireSub, err := raw.SubscribeSync(prefix + ".>")
	require.NoError(t, err)
	require.NoError(t, raw.Flush())
	nodes := faultCluster(t, faultConns(t, srv, 3), nil, natsadapter.WithSubjectPrefix(prefix), faultHeartbeat)
	a, b, c := nodes[0], nodes[1], nodes[2]

	require.NoError(t, a.a.Broadcast(faultEvent("local"), adapter.BroadcastOptions{Flags: adapter.Flags{Local: true}}))
	require.NoError(t, a.a.Broadcast(faultEvent("except-b"), adapter.BroadcastOptions{Except: []string{"s1"}}))
	require.NoError(t, a.a.Broadcast(faultEvent("all"), adapter.BroadcastOptions{}))
	require.NoError(t, a.a.Broadcast(faultEvent("marker-a"), adapter.BroadcastOptions{}))
	for _, n := range []*faultNode{b, c} {
		faultWait(t, faultWaitTimeout, func() bool { return faultGot(n.sock, "marker-a") == 1 }, "%s receives marker-a", n.sock.ID())
	}
	// a's own messages are echoed to a before anything b sends after
	// this flush: once marker-b arrives, a has handled its echoes.
	require.NoError(t, a.nc.Flush())
	require.NoError(t, b.a.Broadcast(faultEvent("marker-b"), adapter.BroadcastOptions{}))
	for _, n := range []*faultNode{a, c} {
		faultWait(t, faultWaitTimeout, func() bool { return faultGot(n.sock, "marker-b") == 1 }, "%s receives marker-b", n.sock.ID())
	}

	assert.Equal(t, []string{"local", "except-b", "all", "marker-a", "marker-b"}, faultNames(a.sock))
	assert.Equal(t, []string{"all", "marker-a", "marker-b"}, faultNames(b.sock))
	assert.Equal(t, []string{"except-b", "all", "marker-a", "marker-b"}, faultNames(c.sock))

	// On the wire: a's broadcasts up to marker-a, without the Local one.
	var published []string
	for range 10000 {
		msg, err := wireSub.NextMsg(faultWaitTimeout)
		require.NoError(t, err, "reading the wire (seen %v)", published)
		m, err := wire.Decode(msg.Data)
		require.NoError(t, err, "the adapters publish valid messages")
		if m.UID != a.a.UID() || m.Type != wire.Broadcast {
			continue
		}
		d, ok := m.Data.(*wire.BroadcastData)
		require.True(t, ok)
		args, ok := d.Packet.Data.([]any)
		require.True(t, ok)
		name, _ := args[0].(string)
		published = append(published, name)
		if name == "marker-a" {
			break
		}
	}
	assert.Equal(t, []string{"except-b", "all", "marker-a"}, published, "a Local broadcast publishes nothing")
}

// ---------------------------------------------------------------- row 37

// TestFault_Ordering covers RELIABILITY.md row 37 (ordering): server A
// makes B's socket join a fresh room and at once broadcasts to that room,
// 50 times; B applies the commands in A's order, so its socket receives
// every broadcast, in order.
func TestFault_Ordering(t *testing.T) {
	srv := embedded(t, nil)
	nodes := faultCluster(t, faultConns(t, srv, 2), nil, natsadapter.WithSubjectPrefix(newPrefix()), faultHeartbeat)
	a, b := nodes[0], nodes[1]

	const rounds = 50
	var want, rooms []string
	for i := range rounds {
		room := fmt.Sprintf("r%d", i)
		rooms = append(rooms, room)
		want = append(want, fmt.Sprintf("o%d", i))
		require.NoError(t, a.a.AddSockets(adapter.BroadcastOptions{Rooms: []string{"s1"}}, []string{room}))
		require.NoError(t, a.a.Broadcast(faultEvent(want[i]), adapter.BroadcastOptions{Rooms: []string{room}}))
	}
	require.NoError(t, a.a.Broadcast(faultEvent("done"), adapter.BroadcastOptions{}))
	faultWait(t, faultWaitTimeout, func() bool { return faultGot(b.sock, "done") == 1 }, "B receives the final broadcast")

	assert.Equal(t, append(want, "done"), faultNames(b.sock), "each join is applied before the broadcast after it")
	assert.Subset(t, b.a.SocketRooms("s1"), rooms)
	assert.Equal(t, []string{"done"}, faultNames(a.sock), "A's socket is in none of the rooms")
}

// ---------------------------------------------------------------- row 38

// TestFault_GracefulShutdown covers RELIABILITY.md row 38 (shutdown):
// Close on C says goodbye, so a request from A waiting for C (whose
// namespace never answers) completes at once with B's answer and no
// error, and A and B count 2 servers well before the 30 s heartbeat
// timeout could explain it; a later request returns B's answer at once.
func TestFault_GracefulShutdown(t *testing.T) {
	srv := embedded(t, nil)
	silent := adaptertest.NewNamespace("/", nil)
	nodes := faultCluster(t, faultConns(t, srv, 3), []adapter.Namespace{nil, nil, silent},
		natsadapter.WithSubjectPrefix(newPrefix()), natsadapter.WithHeartbeat(200*time.Millisecond, 30*time.Second))
	a, c := nodes[0], nodes[2]

	type result struct {
		answers []string
		err     error
	}
	pending := make(chan result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		rs, err := a.a.ServerSideEmitWithAck(ctx, faultPing, nil)
		r := result{err: err}
		for _, x := range rs {
			r.answers = append(r.answers, string(x.Data))
		}
		pending <- r
	}()
	faultWait(t, faultWaitTimeout, func() bool { return len(silent.Events()) == 1 }, "C receives the request")

	require.NoError(t, c.a.Close())
	select {
	case r := <-pending:
		require.NoError(t, r.err, "the request pending on C completes when C leaves")
		assert.Equal(t, []string{`["s1"]`}, r.answers)
	case <-time.After(faultWaitTimeout):
		t.Fatal("the request pending on C did not complete within 10 s of C's Close")
	}
	faultWaitCount(t, nodes[:2], 2)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	rs, err := a.a.ServerSideEmitWithAck(ctx, faultPing, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"s1"}, faultAnswers(t, rs))
	infos, err := a.a.FetchSockets(ctx, adapter.BroadcastOptions{})
	require.NoError(t, err)
	assert.Equal(t, []string{"s0", "s1"}, faultIDs(infos))
	assert.Less(t, time.Since(start), 10*time.Second, "no wait for the closed server")
}

// TestFault_CloseReleases covers RELIABILITY.md rows 32 and 38 (the
// adapter's own resources): after Close, the NATS server holds none of
// the adapter's subscriptions (its subject and its answer subject) and
// none of its goroutines remains, while its connection stays open.
func TestFault_CloseReleases(t *testing.T) {
	srv := embedded(t, nil)
	prefix := newPrefix()
	ncA, ncB := connect(t, srv), connect(t, srv)
	b := faultStart(t, ncB, faultReplying("s1"), "s1", natsadapter.WithSubjectPrefix(prefix), faultHeartbeat)
	base := srv.NATS().NumSubscriptions()
	cid, err := ncA.GetClientID()
	require.NoError(t, err)
	subsOfA := func() []string {
		cz, err := srv.NATS().Connz(&server.ConnzOptions{CID: cid, Subscriptions: true})
		require.NoError(t, err)
		require.Len(t, cz.Conns, 1)
		subs := slices.Clone(cz.Conns[0].Subs)
		slices.Sort(subs)
		return subs
	}
	require.Empty(t, subsOfA())

	noLeak := leakcheck.Check(t) // the server, the connections and b are older
	a := faultStart(t, ncA, faultReplying("s0"), "s0", natsadapter.WithSubjectPrefix(prefix), faultHeartbeat)
	faultWaitCount(t, []*faultNode{a, b}, 2)
	subject := prefix + "." + natsadapter.SubjectToken("/")
	assert.Equal(t, []string{subject, subject + "." + a.a.UID()}, subsOfA())
	assert.Equal(t, base+2, srv.NATS().NumSubscriptions())

	require.NoError(t, a.a.Close())
	require.NoError(t, ncA.Flush()) // the unsubscriptions have reached the server
	assert.Empty(t, subsOfA(), "no subscription left")
	assert.Equal(t, base, srv.NATS().NumSubscriptions())
	noLeak()
	assert.True(t, ncA.IsConnected(), "the connection stays the caller's")
	faultWaitCount(t, []*faultNode{b}, 1)
}

// ---------------------------------------------------------------- row 40

// faultAuthServer starts a nats-server without listener whose user "u"
// may not subscribe to "denied.>", "xdenied.>" and the answer subjects
// under "inboxdenied", nor publish under "pubdenied".
func faultAuthServer(t *testing.T) *server.Server {
	t.Helper()
	ns, err := server.NewServer(&server.Options{
		DontListen: true, NoLog: true, NoSigs: true,
		Users: []*server.User{{Username: "u", Password: "p", Permissions: &server.Permissions{
			Publish:   &server.SubjectPermission{Deny: []string{"pubdenied.>"}},
			Subscribe: &server.SubjectPermission{Deny: []string{"denied.>", "xdenied.>", "inboxdenied.*.*"}},
		}}},
	})
	require.NoError(t, err)
	ns.Start()
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	require.True(t, ns.ReadyForConnections(faultWaitTimeout))
	return ns
}

func faultAuthConnect(t *testing.T, ns *server.Server) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect("", nats.InProcessServer(ns), nats.Timeout(10*time.Second), nats.UserInfo("u", "p"), faultQuiet)
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	return nc
}

// TestFault_Permissions covers RELIABILITY.md row 40 (permission errors):
// an adapter whose subject may not be subscribed to, whose answer subject
// may not be, or on which it may not publish, fails to start with an
// error wrapping nats.ErrPermissionViolation, rather than serving nothing
// silently; with an allowed prefix, on the same connection, it works.
func TestFault_Permissions(t *testing.T) {
	ns := faultAuthServer(t)
	nc := faultAuthConnect(t, ns)
	for _, prefix := range []string{"denied", "inboxdenied", "pubdenied"} {
		a, err := natsadapter.New(nc, natsadapter.WithSubjectPrefix(prefix), faultHeartbeat)(adaptertest.NewNamespace("/", nil))
		if err == nil {
			t.Cleanup(func() { _ = a.Close() })
		}
		require.ErrorIs(t, err, nats.ErrPermissionViolation, "prefix %q", prefix)
	}

	a := faultStart(t, nc, faultReplying("s0"), "s0", natsadapter.WithSubjectPrefix("allowed"), faultHeartbeat)
	b := faultStart(t, faultAuthConnect(t, ns), faultReplying("s1"), "s1", natsadapter.WithSubjectPrefix("allowed"), faultHeartbeat)
	faultWaitCount(t, []*faultNode{a, b}, 2)
	require.NoError(t, a.a.Broadcast(faultEvent("allowed"), adapter.BroadcastOptions{}))
	faultWait(t, faultWaitTimeout, func() bool { return faultGot(b.sock, "allowed") == 1 }, "a broadcast with the allowed prefix arrives")
}

// TestFault_PermissionsOtherSubject covers RELIABILITY.md row 40: a
// permission violation about another subject of the same connection must
// not stop an adapter whose own subjects are allowed. The earlier
// violation is about "xdenied.Lw"; the prefix "enied" is allowed, but
// "enied.Lw" is a substring of that error, which the connection keeps as
// its LastError.
func TestFault_PermissionsOtherSubject(t *testing.T) {
	ns := faultAuthServer(t)
	nc := faultAuthConnect(t, ns)
	start := func(prefix string) error {
		a, err := natsadapter.New(nc, natsadapter.WithSubjectPrefix(prefix), faultHeartbeat)(adaptertest.NewNamespace("/", nil))
		if err == nil {
			t.Cleanup(func() { _ = a.Close() })
		}
		return err
	}
	require.ErrorIs(t, start("xdenied"), nats.ErrPermissionViolation, "prefix xdenied is denied")
	assert.NoError(t, start("enied"), "prefix enied is allowed, whatever the connection's earlier errors")
}

// TestFault_FactoryErrorNilAdapter covers RELIABILITY.md row 40 (errors at
// adapter start): when the factory fails, the adapter it returns must be
// a nil interface, so that a caller testing it against nil (or closing
// what it got) does not call methods on a nil *Adapter.
func TestFault_FactoryErrorNilAdapter(t *testing.T) {
	nc := faultAuthConnect(t, faultAuthServer(t))
	a, err := natsadapter.New(nc, natsadapter.WithSubjectPrefix("denied"), faultHeartbeat)(adaptertest.NewNamespace("/", nil))
	require.ErrorIs(t, err, nats.ErrPermissionViolation)
	assert.True(t, a == nil, "on error the factory returns a nil adapter.Adapter, got %#v", a)
}
