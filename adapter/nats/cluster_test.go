package natsadapter_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	natsadapter "github.com/gosio/gosio/adapter/nats"
	"github.com/gosio/gosio/socketio"
)

// The tests of this file run the whole Socket.IO API over the NATS
// adapter: real socketio.Servers, each behind its own httptest server,
// and raw WebSocket clients (client_test.go) connected to different
// servers. The same table runs on two topologies: every server on one
// embedded NATS server, and each server on its own node of a 3-node NATS
// cluster (so that every message crosses NATS routes).

// clusterWait bounds every wait on the cluster.
const clusterWait = 10 * time.Second

// connectFunc opens the NATS connection of Socket.IO server i, closed at
// the end of the test.
type connectFunc func(t *testing.T, i int) *nats.Conn

func TestCluster_EmbeddedNATS(t *testing.T) {
	srv := embedded(t, nil)
	runClusterTable(t, func(t *testing.T, _ int) *nats.Conn { return connect(t, srv) })
}

func TestCluster_NATSCluster(t *testing.T) {
	nodes := startNATSCluster(t, 3)
	runClusterTable(t, func(t *testing.T, i int) *nats.Conn {
		t.Helper()
		url := nodes[i%len(nodes)].ClientURL()
		nc, err := nats.Connect(url, nats.Timeout(10*time.Second))
		require.NoError(t, err, "connect to %s", url)
		t.Cleanup(nc.Close)
		return nc
	})
}

func runClusterTable(t *testing.T, connect connectFunc) {
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, connect connectFunc)
	}{
		{"Broadcast", testClusterBroadcast},
		{"Rooms", testClusterRooms},
		{"BroadcastWithAck", testClusterBroadcastWithAck},
		{"FetchSockets", testClusterFetchSockets},
		{"SocketsJoinLeaveDisconnect", testClusterSocketsCommands},
		{"ServerSideEmit", testClusterServerSideEmit},
		{"DynamicNamespace", testClusterDynamicNamespace},
		{"Recovery", testClusterRecovery},
		{"ServerCount", testClusterServerCount},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, connect) })
	}
}

// ---------------------------------------------------------------- fixtures

var natsNodeNames atomic.Int64

// startNATSCluster starts n nats-server nodes routed into one cluster on
// 127.0.0.1 (the first is the seed the others route to; they find each
// other through it) and waits until each has a route to every other.
func startNATSCluster(t *testing.T, n int) []*server.Server {
	t.Helper()
	var nodes []*server.Server
	var seed string
	for i := range n {
		o := &server.Options{
			Host:       "127.0.0.1",
			Port:       server.RANDOM_PORT,
			NoLog:      true,
			NoSigs:     true,
			ServerName: fmt.Sprintf("gosio-test-%d", natsNodeNames.Add(1)),
			Cluster: server.ClusterOpts{
				Name: "gosio-test",
				Host: "127.0.0.1",
				Port: server.RANDOM_PORT,
			},
		}
		if i > 0 {
			o.Routes = server.RoutesFromStr(seed)
		}
		node, err := server.NewServer(o)
		require.NoError(t, err)
		node.Start()
		t.Cleanup(func() {
			node.Shutdown()
			node.WaitForShutdown()
		})
		require.True(t, node.ReadyForConnections(clusterWait), "NATS node %d not ready", i)
		if i == 0 {
			seed = "nats://" + node.ClusterAddr().String()
		}
		nodes = append(nodes, node)
	}
	// NumRoutes counts route connections, several per peer with route
	// pooling (nats-server's default); NumRemotes counts the peers.
	deadline := time.Now().Add(clusterWait)
	for {
		remotes := make([]int, len(nodes))
		full := true
		for i, node := range nodes {
			remotes[i] = node.NumRemotes()
			full = full && remotes[i] == n-1
		}
		if full {
			return nodes
		}
		if time.Now().After(deadline) {
			t.Fatalf("NATS cluster not formed within %v: remotes per node %v, want %d", clusterWait, remotes, n-1)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// clusterConfig holds the options of a Socket.IO cluster.
type clusterConfig struct {
	heartbeatTimeout time.Duration
	recovery         bool
}

type clusterOption func(*clusterConfig)

// withHeartbeatTimeout sets the adapters' heartbeat timeout.
func withHeartbeatTimeout(d time.Duration) clusterOption {
	return func(c *clusterConfig) { c.heartbeatTimeout = d }
}

// withRecovery turns connection state recovery on, on every server.
func withRecovery() clusterOption { return func(c *clusterConfig) { c.recovery = true } }

// sioCluster is a set of Socket.IO servers sharing a subject prefix.
type sioCluster struct {
	cfg     clusterConfig
	prefix  string
	servers []*socketio.Server
	urls    []string // http:// base URL of each server
}

// newCluster starts one Socket.IO server per NATS connection (n of them),
// each behind its own httptest server on 127.0.0.1, and waits until the
// main namespace of every server counts n servers. Everything is shut
// down at the end of the test.
func newCluster(t *testing.T, n int, natsConns []*nats.Conn, opts ...clusterOption) *sioCluster {
	t.Helper()
	require.Len(t, natsConns, n)
	// 100 ms / 2 s: peers are dropped only after 20 missed heartbeats,
	// which a loaded machine running -race does not cause.
	c := &sioCluster{cfg: clusterConfig{heartbeatTimeout: 2 * time.Second}, prefix: newPrefix()}
	for _, o := range opts {
		o(&c.cfg)
	}
	for _, nc := range natsConns {
		c.add(t, nc)
	}
	waitServerCount(t, c.mains(), n)
	return c
}

// add starts one more server of the cluster on nc; it does not wait for
// the others to see it.
func (c *sioCluster) add(t *testing.T, nc *nats.Conn) *socketio.Server {
	t.Helper()
	opts := &socketio.Options{
		Adapter: natsadapter.New(nc,
			natsadapter.WithSubjectPrefix(c.prefix),
			natsadapter.WithHeartbeat(100*time.Millisecond, c.cfg.heartbeatTimeout)),
		Logger: slog.New(slog.DiscardHandler),
	}
	if c.cfg.recovery {
		opts.ConnectionStateRecovery = &socketio.RecoveryOptions{}
	}
	srv, err := socketio.New(opts)
	require.NoError(t, err)
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), clusterWait)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, socketio.ErrServerClosed) {
			t.Errorf("shutdown: %v", err)
		}
		ts.Close()
	})
	c.servers = append(c.servers, srv)
	c.urls = append(c.urls, ts.URL)
	return srv
}

// mains returns the main namespace of every server.
func (c *sioCluster) mains() []*socketio.Namespace {
	out := make([]*socketio.Namespace, len(c.servers))
	for i, srv := range c.servers {
		out[i] = srv.Of("/")
	}
	return out
}

// dial opens a raw client to server i (not yet in any namespace).
func (c *sioCluster) dial(t *testing.T, i int, name string) *wsClient {
	t.Helper()
	return dialWS(t, c.urls[i], fmt.Sprintf("%s@server%d", name, i))
}

// join opens a raw client to server i and connects it to "/".
func (c *sioCluster) join(t *testing.T, i int, name string) *wsClient {
	t.Helper()
	cl := c.dial(t, i, name)
	cl.connect("/", nil)
	return cl
}

// natsConns opens n NATS connections, one per Socket.IO server.
func clusterNATSConns(t *testing.T, connect connectFunc, n int) []*nats.Conn {
	t.Helper()
	out := make([]*nats.Conn, n)
	for i := range out {
		out[i] = connect(t, i)
	}
	return out
}

// waitServerCount polls until ServerCount is want on every namespace.
func waitServerCount(t *testing.T, nss []*socketio.Namespace, want int) {
	t.Helper()
	deadline := time.Now().Add(clusterWait)
	for {
		counts := make([]int, len(nss))
		ok := true
		for i, ns := range nss {
			n, err := ns.ServerCount(context.Background())
			counts[i] = n
			ok = ok && err == nil && n == want
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("server counts %v after %v, want %d on every server", counts, clusterWait, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// clusterDisconnect is a socket's disconnect as its server saw it.
type clusterDisconnect struct {
	id     string
	reason socketio.Reason
}

// trackDisconnects reports the disconnects of server i's main namespace.
func (c *sioCluster) trackDisconnects(i int) <-chan clusterDisconnect {
	ch := make(chan clusterDisconnect, 64)
	c.servers[i].OnDisconnect(func(s *socketio.Socket, r socketio.Reason) {
		select {
		case ch <- clusterDisconnect{s.ID(), r}:
		default: // the test does not read that many
		}
	})
	return ch
}

// waitDisconnect returns the reason of socket id's disconnect.
func waitClusterDisconnect(t *testing.T, ch <-chan clusterDisconnect, id string) socketio.Reason {
	t.Helper()
	timer := time.NewTimer(clusterWait)
	defer timer.Stop()
	for range 64 {
		select {
		case d := <-ch:
			if d.id == id {
				return d.reason
			}
		case <-timer.C:
			t.Fatalf("socket %s not disconnected within %v", id, clusterWait)
		}
	}
	t.Fatalf("socket %s not among the disconnects", id)
	return ""
}

// receive returns the value ch delivers within clusterWait.
func clusterRecv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	timer := time.NewTimer(clusterWait)
	defer timer.Stop()
	select {
	case v := <-ch:
		return v
	case <-timer.C:
		t.Fatalf("no %s within %v", what, clusterWait)
		var zero T
		return zero
	}
}

type clusterAckResult struct {
	res []*socketio.AckResponse
	err error
}

// ackStrings decodes the first argument of each ack as a string.
func clusterAckStrings(t *testing.T, res []*socketio.AckResponse) []string {
	t.Helper()
	out := make([]string, len(res))
	for i, r := range res {
		require.NoError(t, r.Scan(&out[i]))
	}
	return out
}

// ---------------------------------------------------------------- the table

// A client's event, re-emitted to the namespace by its server's handler,
// reaches the clients of every server exactly once, with its binary
// argument intact (a BINARY_EVENT with the same bytes).
func testClusterBroadcast(t *testing.T, connect connectFunc) {
	c := newCluster(t, 3, clusterNATSConns(t, connect, 3))
	for _, srv := range c.servers {
		srv.On("shout", func(ctx context.Context, ev *socketio.Event) error {
			var label string
			var data []byte
			if err := ev.Scan(&label, &data); err != nil {
				return err
			}
			return ev.Socket().Namespace().Emit("news", label, data)
		})
	}
	clients := []*wsClient{c.join(t, 0, "a"), c.join(t, 1, "b"), c.join(t, 2, "c")}

	payload := []byte{0, 1, 2, 0x7f, 0x80, 0xfe, 0xff}
	clients[0].emitBinary("shout", "first", payload)
	clients[0].emitBinary("shout", "second", []byte("2"))
	for _, cl := range clients {
		// A duplicate of "first" would come before "second": server 0
		// publishes both, and NATS keeps one publisher's order.
		for _, want := range []struct {
			label string
			data  []byte
		}{{"first", payload}, {"second", []byte("2")}} {
			p, args := cl.expectEvent("news")
			require.Equal(t, string(sioBinaryEvent), string(p.Type), "%s: %s", cl.name, p.Frame)
			require.Len(t, args, 2, "%s: %s", cl.name, p.Frame)
			assert.Equal(t, want.label, jsonString(t, args[0]), cl.name)
			got, err := p.attachment(args[1])
			require.NoError(t, err, "%s: %s", cl.name, p.Frame)
			assert.Equal(t, want.data, got, cl.name)
		}
	}
}

// To, Except and Local from server 1 select the same sockets on every
// server: each client receives exactly its sequence of events.
func testClusterRooms(t *testing.T, connect connectFunc) {
	c := newCluster(t, 3, clusterNATSConns(t, connect, 3))
	for _, srv := range c.servers {
		srv.On("join", func(ctx context.Context, ev *socketio.Event) error {
			var rooms []string
			if err := ev.Scan(&rooms); err != nil {
				return err
			}
			ev.Socket().Join(rooms...)
			return ev.Ack()
		})
	}
	m0, m1, m2 := c.join(t, 0, "m0"), c.join(t, 1, "m1"), c.join(t, 2, "m2")
	o0, o1 := c.join(t, 0, "o0"), c.join(t, 1, "o1")
	m0.emitWithAck("join", []string{"r"})
	m1.emitWithAck("join", []string{"r"})
	m2.emitWithAck("join", []string{"r", "x"})

	s1 := c.servers[1]
	require.NoError(t, s1.To("r").Emit("to-r"))
	require.NoError(t, s1.Except("x").Emit("except-x"))
	require.NoError(t, s1.Local().Emit("local"))
	require.NoError(t, s1.Emit("end"))

	// Server 1 sent everything, so each client gets its events in that
	// order: a missing name fails, and so does an extra one.
	m0.expectEvents("to-r", "except-x", "end")
	m1.expectEvents("to-r", "except-x", "local", "end")
	m2.expectEvents("to-r", "end")
	o0.expectEvents("except-x", "end")
	o1.expectEvents("except-x", "local", "end")
}

// EmitWithAck from server 0 collects the acks of the clients of every
// server; a client that never answers yields a *socketio.PartialError
// with the others' answers.
func testClusterBroadcastWithAck(t *testing.T, connect connectFunc) {
	c := newCluster(t, 3, clusterNATSConns(t, connect, 3))
	clients := []*wsClient{c.join(t, 0, "a"), c.join(t, 1, "b"), c.join(t, 2, "c")}
	ids := []string{clients[0].sid, clients[1].sid, clients[2].sid}

	done := make(chan clusterAckResult, 1)
	go func() {
		res, err := c.servers[0].Timeout(5*time.Second).EmitWithAck(context.Background(), "ask", "q1")
		done <- clusterAckResult{res, err}
	}()
	for _, cl := range clients {
		p, args := cl.expectEvent("ask")
		require.Len(t, args, 1)
		cl.ack(p.ID, cl.sid)
	}
	r := clusterRecv(t, done, "EmitWithAck result")
	require.NoError(t, r.err)
	assert.ElementsMatch(t, ids, clusterAckStrings(t, r.res))

	// A fourth client, on server 1, reads the question and stays silent.
	silent := c.join(t, 1, "silent")
	go func() {
		res, err := c.servers[0].Timeout(2*time.Second).EmitWithAck(context.Background(), "ask", "q2")
		done <- clusterAckResult{res, err}
	}()
	for _, cl := range clients {
		p, _ := cl.expectEvent("ask")
		cl.ack(p.ID, cl.sid)
	}
	silent.expectEvent("ask")
	r = clusterRecv(t, done, "EmitWithAck result")
	var pe *socketio.PartialError
	require.ErrorAs(t, r.err, &pe)
	assert.Equal(t, 4, pe.Expected, "every server reported its clients")
	assert.Equal(t, 3, pe.Received)
	assert.ErrorIs(t, r.err, context.DeadlineExceeded)
	assert.ElementsMatch(t, ids, clusterAckStrings(t, r.res))
}

// FetchSockets from server 2 returns the sockets of every server with
// their handshake auth, rooms and data, and the remote sockets act on
// the live sockets wherever they are.
func testClusterFetchSockets(t *testing.T, connect connectFunc) {
	c := newCluster(t, 3, clusterNATSConns(t, connect, 3))
	type socketData struct {
		Name   string `json:"name"`
		Server int    `json:"server"`
	}
	for i, srv := range c.servers {
		srv.OnConnection(func(ctx context.Context, s *socketio.Socket) error {
			var auth struct {
				Name string `json:"name"`
			}
			if err := json.Unmarshal(s.Handshake().Auth, &auth); err != nil {
				return err
			}
			s.SetData(socketData{Name: auth.Name, Server: i})
			s.Join(fmt.Sprintf("srv-%d", i))
			return s.Emit("ready") // the CONNECT answer comes before this handler
		})
	}
	disc0 := c.trackDisconnects(0)
	names := []string{"ann", "bob", "cy"}
	clients := make([]*wsClient, 3)
	for i, name := range names {
		clients[i] = c.dial(t, i, name)
		clients[i].connect("/", map[string]string{"name": name})
		clients[i].expectEvent("ready")
	}

	ctx, cancel := context.WithTimeout(context.Background(), clusterWait)
	defer cancel()
	all, err := c.servers[2].FetchSockets(ctx)
	require.NoError(t, err)
	require.Len(t, all, 3)
	byID := make(map[string]*socketio.RemoteSocket)
	for _, rs := range all {
		byID[rs.ID] = rs
	}
	for i, cl := range clients {
		rs := byID[cl.sid]
		require.NotNil(t, rs, "socket of %s missing from %v", cl.name, all)
		assert.JSONEq(t, fmt.Sprintf(`{"name":%q}`, names[i]), string(rs.Handshake.Auth), cl.name)
		assert.ElementsMatch(t, []string{cl.sid, fmt.Sprintf("srv-%d", i)}, rs.Rooms, cl.name)
		var data socketData
		require.NoError(t, rs.Data(&data), cl.name)
		assert.Equal(t, socketData{Name: names[i], Server: i}, data, cl.name)
	}

	ann, remote := clients[0], byID[clients[0].sid] // on server 0, seen from server 2
	s2 := c.servers[2]
	require.NoError(t, remote.Emit("direct", "hi"))
	_, args := ann.expectEvent("direct")
	assert.Equal(t, "hi", jsonString(t, args[0]))

	require.NoError(t, remote.Join("vip"))
	require.NoError(t, s2.To("vip").Emit("vip-news"))
	require.NoError(t, s2.Emit("mark"))
	ann.expectEvents("vip-news", "mark")
	clients[1].expectEvents("mark")
	clients[2].expectEvents("mark")
	// Server 0 applied the join (ann got vip-news): another server sees it.
	vip, err := c.servers[1].In("vip").FetchSockets(ctx)
	require.NoError(t, err)
	require.Len(t, vip, 1)
	assert.Equal(t, ann.sid, vip[0].ID)
	assert.Contains(t, vip[0].Rooms, "vip")

	require.NoError(t, remote.Leave("vip"))
	require.NoError(t, s2.To("vip").Emit("vip-late"))
	require.NoError(t, remote.Emit("after-leave"))
	ann.expectEvents("after-leave") // not vip-late

	require.NoError(t, remote.Disconnect(false))
	ann.expectDisconnect()
	assert.Equal(t, socketio.ReasonServerNamespaceDisconnect, waitClusterDisconnect(t, disc0, ann.sid))
	// The transport stays open: the client can join again on it.
	old := ann.sid
	ann.connect("/", map[string]string{"name": "ann"})
	ann.expectEvent("ready")
	assert.NotEqual(t, old, ann.sid)
}

// SocketsJoin, SocketsLeave and DisconnectSockets from server 0 act on
// the sockets of the other servers.
func testClusterSocketsCommands(t *testing.T, connect connectFunc) {
	c := newCluster(t, 3, clusterNATSConns(t, connect, 3))
	disc1 := c.trackDisconnects(1)
	j0, j1, j2 := c.join(t, 0, "j0"), c.join(t, 1, "j1"), c.join(t, 2, "j2")
	s0 := c.servers[0]

	require.NoError(t, s0.SocketsJoin("g"))
	require.NoError(t, s0.To("g").Emit("g1"))
	require.NoError(t, s0.Except(j1.sid).SocketsLeave("g"))
	require.NoError(t, s0.To("g").Emit("g2"))
	require.NoError(t, s0.Emit("end"))
	j0.expectEvents("g1", "end")
	j1.expectEvents("g1", "g2", "end")
	j2.expectEvents("g1", "end")

	require.NoError(t, s0.In("g").DisconnectSockets(true))
	j1.expectDisconnect()
	j1.expectClosed() // close: the transport of server 1 is closed too
	assert.Equal(t, socketio.ReasonServerNamespaceDisconnect, waitClusterDisconnect(t, disc1, j1.sid))

	require.NoError(t, s0.Emit("end2"))
	j0.expectEvents("end2")
	j2.expectEvents("end2")
	ctx, cancel := context.WithTimeout(context.Background(), clusterWait)
	defer cancel()
	left, err := s0.FetchSockets(ctx)
	require.NoError(t, err)
	var ids []string
	for _, rs := range left {
		ids = append(ids, rs.ID)
	}
	assert.ElementsMatch(t, []string{j0.sid, j2.sid}, ids)
}

// ServerSideEmit reaches the OnServerEvent handlers of the other servers
// only; with acks, it collects one answer per server, and a silent server
// is named in the *socketio.PartialError.
func testClusterServerSideEmit(t *testing.T, connect connectFunc) {
	c := newCluster(t, 3, clusterNATSConns(t, connect, 3))
	got := make([]chan string, len(c.servers))
	for i, srv := range c.servers {
		got[i] = make(chan string, 16)
		srv.OnServerEvent("hello", func(ctx context.Context, ev *socketio.Event) error {
			if ev.Socket() != nil {
				return errors.New("a server event with a socket")
			}
			var from string
			if err := ev.Scan(&from); err != nil {
				return err
			}
			got[i] <- from
			return nil
		})
		srv.OnServerEvent("ask", func(ctx context.Context, ev *socketio.Event) error {
			return ev.Ack(fmt.Sprintf("server%d", i))
		})
		srv.OnServerEvent("ask-some", func(ctx context.Context, ev *socketio.Event) error {
			if i == 2 {
				return nil // never answers
			}
			return ev.Ack(fmt.Sprintf("server%d", i))
		})
	}

	require.NoError(t, c.servers[0].ServerSideEmit("hello", "from0"))
	assert.Equal(t, "from0", clusterRecv(t, got[1], "server event on server 1"))
	assert.Equal(t, "from0", clusterRecv(t, got[2], "server event on server 2"))
	// Server 0 must not get its own event: the first one it gets is the
	// one server 1 sends after its handler ran.
	require.NoError(t, c.servers[1].ServerSideEmit("hello", "from1"))
	assert.Equal(t, "from1", clusterRecv(t, got[0], "server event on server 0"))
	assert.Equal(t, "from1", clusterRecv(t, got[2], "server event on server 2"))

	ctx, cancel := context.WithTimeout(context.Background(), clusterWait)
	defer cancel()
	res, err := c.servers[0].ServerSideEmitWithAck(ctx, "ask")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"server1", "server2"}, clusterAckStrings(t, res))

	short, cancelShort := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancelShort()
	res, err = c.servers[0].ServerSideEmitWithAck(short, "ask-some")
	var pe *socketio.PartialError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 2, pe.Expected)
	assert.Equal(t, 1, pe.Received)
	silent := c.servers[2].Of("/").Adapter().(*natsadapter.Adapter).UID()
	assert.Equal(t, []string{silent}, pe.Missing, "the silent server is named by its adapter uid")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, []string{"server1"}, clusterAckStrings(t, res))
}

// A child of a dynamic namespace exists on each server where a client
// connected to it; a broadcast on it reaches the same child on the others.
func testClusterDynamicNamespace(t *testing.T, connect connectFunc) {
	c := newCluster(t, 3, clusterNATSConns(t, connect, 3))
	for _, srv := range c.servers {
		parent := srv.OfRegexp(regexp.MustCompile(`^/dyn-\d+$`))
		parent.On("shout", func(ctx context.Context, ev *socketio.Event) error {
			var s string
			if err := ev.Scan(&s); err != nil {
				return err
			}
			return ev.Socket().Namespace().Emit("news", s)
		})
	}
	clients := make([]*wsClient, 3)
	children := make([]*socketio.Namespace, 3)
	for i := range clients {
		clients[i] = c.dial(t, i, fmt.Sprintf("d%d", i))
		clients[i].connect("/dyn-1", nil)
		children[i] = c.servers[i].Of("/dyn-1") // the child the client created
	}
	// Each child's adapter joined the cluster when it was created.
	waitServerCount(t, children, 3)

	clients[1].emit("shout", "hi")
	for _, cl := range clients {
		_, args := cl.expectEvent("news") // on /dyn-1: expectEvent checks the namespace
		require.Len(t, args, 1)
		assert.Equal(t, "hi", jsonString(t, args[0]), cl.name)
	}
}

// Connection state recovery works per server: a client of server 1 that
// lost its connection gets back its socket, and the events broadcast from
// server 0 while it was away, when it returns to server 1; on server 2 it
// starts afresh.
func testClusterRecovery(t *testing.T, connect connectFunc) {
	c := newCluster(t, 3, clusterNATSConns(t, connect, 3), withRecovery())
	disc1 := c.trackDisconnects(1)
	s0 := c.servers[0]
	r := c.dial(t, 1, "r")
	sid, pid := r.connect("/", nil)
	require.NotEmpty(t, pid, "the CONNECT answer carries a pid with recovery on")
	w := c.join(t, 1, "witness")

	require.NoError(t, s0.Emit("before", 1))
	_, args := r.expectEvent("before")
	require.Len(t, args, 2, "an offset is appended")
	offset := jsonString(t, args[1])
	w.expectEvent("before")

	r.dropTransport()
	reason := waitClusterDisconnect(t, disc1, sid)
	require.Contains(t, []socketio.Reason{socketio.ReasonTransportClose, socketio.ReasonTransportError}, reason)

	require.NoError(t, s0.Emit("missed", 2))
	w.expectEvent("missed") // server 1 has stored it (it stores, then delivers)

	back := c.dial(t, 1, "r-back")
	back.sendConnect("/", map[string]string{"pid": pid, "offset": offset})
	_, args = back.expectEvent("missed") // missed events first, then the CONNECT answer
	require.Len(t, args, 2)
	assert.JSONEq(t, "2", string(args[0]))
	sid2, pid2 := back.expectConnected()
	assert.Equal(t, sid, sid2, "the socket keeps its id")
	assert.Equal(t, pid, pid2)
	back.sid = sid2
	require.NoError(t, s0.Emit("after"))
	back.expectEvent("after")
	w.expectEvents("after")

	// The session lives on server 1 only: on server 2 the client starts
	// a new session.
	q := c.dial(t, 1, "q")
	qsid, qpid := q.connect("/", nil)
	require.NoError(t, s0.Emit("for-q"))
	_, args = q.expectEvent("for-q")
	qoffset := jsonString(t, args[len(args)-1])
	q.dropTransport()
	waitClusterDisconnect(t, disc1, qsid)
	elsewhere := c.dial(t, 2, "q-elsewhere")
	elsewhere.sendConnect("/", map[string]string{"pid": qpid, "offset": qoffset})
	nsid, _ := elsewhere.expectConnected()
	assert.NotEqual(t, qsid, nsid)
}

// ServerCount follows servers joining and leaving. The heartbeat timeout
// is 30 s here, so only the leaving server's ADAPTER_CLOSE can explain a
// count that drops within the 10 s deadline.
func testClusterServerCount(t *testing.T, connect connectFunc) {
	c := newCluster(t, 3, clusterNATSConns(t, connect, 3), withHeartbeatTimeout(30*time.Second))
	fourth := c.add(t, connect(t, 3))
	waitServerCount(t, c.mains(), 4)

	ctx, cancel := context.WithTimeout(context.Background(), clusterWait)
	defer cancel()
	require.NoError(t, fourth.Shutdown(ctx))
	waitServerCount(t, c.mains()[:3], 3)
}
