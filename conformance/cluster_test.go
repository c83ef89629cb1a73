package conformance

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	natsadapter "github.com/gosio/gosio/adapter/nats"
	"github.com/gosio/gosio/adapter/nats/natsembed"
	"github.com/gosio/gosio/internal/leakcheck"
	"github.com/gosio/gosio/socketio"
)

// The cluster scenarios: socket.io-client sockets connected to different
// gosio servers that form one cluster over the NATS adapter. Each run
// starts an embedded NATS server and clusterServers Socket.IO servers (one
// NATS connection each, like separate processes), waits until every server
// counts them all, and runs one scenario of scripts/cluster_client.cjs,
// whose client ci connects to server i % clusterServers. The constants
// below must match the script's.
const (
	clusterScript  = "scripts/cluster_client.cjs"
	clusterServers = 3
	clusterClients = 6        // clients of most scenarios, two per server
	clusterBinary  = 64 << 10 // bytes of the broadcast's large Buffer

	// A short heartbeat, so that the cluster forms fast, with a timeout
	// wide enough for a loaded machine running -race.
	clusterHeartbeat        = 100 * time.Millisecond
	clusterHeartbeatTimeout = 2 * time.Second
	// clusterFormWait bounds the wait for every server to count the others.
	clusterFormWait = 10 * time.Second
)

// clusterPrefixes makes every cluster's subject prefix unique in the
// process (each run has its NATS server anyway; the prefix makes a message
// of another run impossible to mistake for one of this run).
var clusterPrefixes atomic.Int64

// clusterSuite is the table of the cluster scenarios, subtests of
// TestCluster.
var clusterSuite = suite{
	title:  "Cluster (NATS adapter)",
	file:   "cluster_test.go",
	script: clusterScript,
	scenarios: []scenario{
		{test: "TestCluster/broadcast", modes: modes, run: testClusterBroadcast,
			covers: "a binary-laden broadcast reaches every client once"},
		{test: "TestCluster/rooms", modes: modes, run: testClusterRooms,
			covers: "To/Except from a server holding no member"},
		{test: "TestCluster/acks", modes: modes, run: testClusterAcks,
			covers: "Timeout(5s).EmitWithAck answered on every server"},
		{test: "TestCluster/fetch", modes: modes, run: testClusterFetch,
			covers: "FetchSockets (ids, rooms, data, auth) from each server"},
		{test: "TestCluster/remote_disconnect", modes: modes, run: testClusterRemoteDisconnect,
			covers: "RemoteSocket.Disconnect(true) of another server's client (\"io server disconnect\")"},
		{test: "TestCluster/server_side_emit", modes: modes, run: testClusterServerSideEmit,
			covers: "ServerSideEmitWithAck: the other servers answer and emit to their own clients only"},
	},
}

// TestCluster runs every cluster scenario in every mode.
func TestCluster(t *testing.T) { runScenario(t) }

// testClusterBroadcast: c0 emits "shout" with binary values; server 0
// broadcasts them; every client, on every server, receives them once, byte
// for byte.
func testClusterBroadcast(t *testing.T, m mode) {
	var (
		mu       sync.Mutex
		received []json.RawMessage // describeBinary of the values, per shout handled
		handled  []int             // server of each shout handled
	)
	res, c := runCluster(t, m, "broadcast", func(c *cluster) {
		for k, ts := range c.servers {
			ts.srv.On("shout", func(ctx context.Context, ev *socketio.Event) error {
				vals, err := scanAll(ev)
				if err != nil {
					return err
				}
				mu.Lock()
				received = append(received, mustJSON(describeBinary(vals)))
				handled = append(handled, k)
				mu.Unlock()
				if err := ts.srv.Emit("shout", vals...); err != nil {
					return err
				}
				return ev.Ack("ok")
			})
		}
	})

	var obs struct {
		Sent json.RawMessage `json:"sent"`
	}
	res.decodeObs(t, &obs)
	require.NotEmpty(t, obs.Sent, "client must report what it sent")
	assert.Contains(t, string(obs.Sent), fmt.Sprintf(`"length":%d`, clusterBinary), "client sent the large Buffer (script out of sync?)")
	mu.Lock()
	assert.Equal(t, []int{0}, handled, "server: shout handled once, by server 0 (c0's)")
	if assert.Len(t, received, 1) {
		assertJSON(t, string(obs.Sent), received[0], "server 0: the shout's values, []byte at every depth")
	}
	mu.Unlock()
	for i := range clusterClients {
		s := res.socket(t, clientName(i))
		assert.Equalf(t, []string{"shout", "fin", "fin", "fin"}, s.eventNames(), "client %s (server %d): events", s.Name, clusterServerOf(i))
		assertArgs(t, s, "shout", string(obs.Sent), fmt.Sprintf("client %s (server %d): the broadcast values", s.Name, clusterServerOf(i)))
	}
	assertClusterEndedByClient(t, res, c)
}

// testClusterRooms: room broadcasts from server 0, which has no member of
// the rooms, reach exactly the members on the other servers; Except and
// socket-id rooms work across servers.
func testClusterRooms(t *testing.T, m mode) {
	res, c := runCluster(t, m, "rooms", func(c *cluster) {
		for _, ts := range c.servers {
			ts.srv.On("room_emit", func(ctx context.Context, ev *socketio.Event) error {
				var cast struct {
					Label  string   `json:"label"`
					To     []string `json:"to"`
					Except []string `json:"except"`
				}
				if err := ev.Scan(&cast); err != nil {
					return err
				}
				op := ts.srv.Except(cast.Except...)
				if len(cast.To) > 0 {
					op = op.To(cast.To...)
				}
				if err := op.Emit("room_msg", cast.Label); err != nil {
					return err
				}
				return ev.Ack("ok")
			})
		}
	})

	// c0 -, c1 a, c2 a b, c3 -, c4 b, c5 a (server i%3): server 0 has no
	// member of a or b.
	want := map[string][]string{
		"c0": {"except-a", "all-except-c2-c5"},
		"c1": {"to-a", "to-a-b", "all-except-c2-c5"},
		"c2": {"to-a", "to-a-b"},
		"c3": {"except-a", "all-except-c2-c5"},
		"c4": {"to-b-except-a", "to-a-b", "except-a", "to-c4", "all-except-c2-c5"},
		"c5": {"to-a", "to-a-b"},
	}
	for i := range clusterClients {
		name := clientName(i)
		s := res.socket(t, name)
		var got []string
		for _, ev := range s.Events {
			if ev.Event != "room_msg" {
				continue
			}
			var label []string
			if assert.NoErrorf(t, json.Unmarshal(ev.Args, &label), "client %s: room_msg args", name) && assert.Len(t, label, 1) {
				got = append(got, label[0])
			}
		}
		assert.Equalf(t, want[name], got, "client %s (server %d): room broadcasts from server 0, in order", name, clusterServerOf(i))
	}
	var onServer0 []string
	for _, rec := range c.servers[0].all() {
		onServer0 = append(onServer0, rec.name)
	}
	assert.ElementsMatch(t, []string{"c0", "c3"}, onServer0, "server 0, the broadcaster, must hold no member of a or b")
	assertClusterEndedByClient(t, res, c)
}

// testClusterAcks: server 0 broadcasts with acks; every client, on every
// server, answers with its id.
func testClusterAcks(t *testing.T, m mode) {
	var (
		mu      sync.Mutex
		answers []string
		rollErr error
		rolled  []int // servers that ran the roll call
	)
	res, c := runCluster(t, m, "acks", func(c *cluster) {
		for k, ts := range c.servers {
			ts.srv.On("start_roll_call", func(ctx context.Context, ev *socketio.Event) error {
				resps, err := ts.srv.Timeout(handlerWait).EmitWithAck(ctx, "roll_call", "who?")
				got := []string{}
				for _, r := range resps {
					var id, q string
					if err := r.Scan(&id, &q); err != nil {
						return err
					}
					got = append(got, id+" "+q)
				}
				slices.Sort(got)
				mu.Lock()
				answers, rollErr = got, err
				rolled = append(rolled, k)
				mu.Unlock()
				return ev.Ack(got)
			})
		}
	})

	var obs struct {
		IDs       []string `json:"ids"`
		Responses []string `json:"responses"`
	}
	res.decodeObs(t, &obs)
	require.Len(t, obs.IDs, clusterClients, "client: ids of its sockets")
	var want []string
	for _, id := range obs.IDs {
		want = append(want, id+" who?")
	}
	slices.Sort(want)
	mu.Lock()
	if assert.Equal(t, []int{0}, rolled, "server: the roll call ran once, on server 0") {
		assert.NoError(t, rollErr, "server 0: Timeout(%v).EmitWithAck to the clients of three servers", handlerWait)
		assert.Equal(t, want, answers, "server 0: the acks of every client of the cluster (id and question)")
	}
	mu.Unlock()
	assert.Equal(t, want, obs.Responses, "client: the answers server 0 collected")
	for i := range clusterClients {
		s := res.socket(t, clientName(i))
		assert.Equalf(t, []string{"roll_call", "fin", "fin", "fin"}, s.eventNames(), "client %s (server %d): events", s.Name, clusterServerOf(i))
		assertArgs(t, s, "roll_call", `["who?",{"$function":true}]`, fmt.Sprintf("client %s: roll_call with an ack callback", s.Name))
	}
	assertClusterEndedByClient(t, res, c)
}

// clusterFetched is one socket of a FetchSockets result, as the "fetch"
// handler acks it.
type clusterFetched struct {
	ID    string          `json:"id"`
	Rooms []string        `json:"rooms"`
	Data  json.RawMessage `json:"data"`
	Auth  json.RawMessage `json:"auth"`
}

// testClusterFetch: FetchSockets on each server returns the id, rooms,
// data and handshake auth of the clients of all three servers.
func testClusterFetch(t *testing.T, m mode) {
	var (
		mu        sync.Mutex
		fetchErrs []error
		fetches   []int // server of each fetch
	)
	res, c := runCluster(t, m, "fetch", func(c *cluster) {
		for k, ts := range c.servers {
			ts.srv.OnConnection(func(ctx context.Context, s *socketio.Socket) error {
				s.SetData(map[string]any{"name": authName(string(s.Handshake().Auth)), "server": k})
				return nil
			})
			ts.srv.On("fetch", func(ctx context.Context, ev *socketio.Event) error {
				var room string
				if err := ev.Scan(&room); err != nil {
					return err
				}
				ctx, cancel := context.WithTimeout(ctx, handlerWait)
				defer cancel()
				var (
					rs  []*socketio.RemoteSocket
					err error
				)
				if room == "" {
					rs, err = ts.srv.FetchSockets(ctx)
				} else {
					rs, err = ts.srv.In(room).FetchSockets(ctx)
				}
				out := make([]clusterFetched, 0, len(rs))
				for _, r := range rs {
					rooms := slices.Clone(r.Rooms)
					slices.Sort(rooms)
					out = append(out, clusterFetched{ID: r.ID, Rooms: rooms, Data: json.RawMessage(r.RawData()), Auth: json.RawMessage(r.Handshake.Auth)})
				}
				slices.SortFunc(out, func(a, b clusterFetched) int {
					return cmp.Compare(authName(string(a.Auth)), authName(string(b.Auth)))
				})
				mu.Lock()
				fetchErrs = append(fetchErrs, err)
				fetches = append(fetches, k)
				mu.Unlock()
				return ev.Ack(out)
			})
		}
	})

	var obs struct {
		IDs          []string           `json:"ids"`
		Fetched      [][]clusterFetched `json:"fetched"`
		FetchedTeam0 []clusterFetched   `json:"fetchedTeam0"`
	}
	res.decodeObs(t, &obs)
	require.Len(t, obs.IDs, clusterClients, "client: ids of its sockets")
	mu.Lock()
	assert.Equal(t, []int{0, 1, 2, 1}, fetches, "server: fetches by server 0, 1, 2, then In(team-0) by server 1")
	for i, err := range fetchErrs {
		assert.NoErrorf(t, err, "server: FetchSockets %d", i)
	}
	mu.Unlock()
	check := func(got []clusterFetched, team0 bool, what string) {
		t.Helper()
		var want []clusterFetched
		for i, id := range obs.IDs {
			if team0 && i%2 != 0 {
				continue
			}
			rooms := []string{id, "team-" + strconv.Itoa(i%2)}
			slices.Sort(rooms)
			want = append(want, clusterFetched{ID: id, Rooms: rooms})
		}
		if !assert.Lenf(t, got, len(want), "%s: sockets", what) {
			return
		}
		for j, w := range want {
			g := got[j]
			i := slices.Index(obs.IDs, g.ID)
			assert.Equalf(t, w.ID, g.ID, "%s: socket %d id", what, j)
			assert.Equalf(t, w.Rooms, g.Rooms, "%s: rooms of %s", what, w.ID)
			assertJSON(t, fmt.Sprintf(`{"name":%q}`, clientName(i)), g.Auth, what+": handshake auth of "+w.ID)
			assertJSON(t, fmt.Sprintf(`{"name":%q,"server":%d}`, clientName(i), clusterServerOf(i)), g.Data, what+": data (SetData by its server) of "+w.ID)
		}
	}
	if assert.Len(t, obs.Fetched, clusterServers, "client: fetches reported") {
		for k, got := range obs.Fetched {
			check(got, false, fmt.Sprintf("FetchSockets on server %d", k))
		}
	}
	check(obs.FetchedTeam0, true, "In(team-0).FetchSockets on server 1")
	assertClusterEndedByClient(t, res, c)
}

// testClusterRemoteDisconnect: server 0 disconnects c1, connected to server
// 1, through FetchSockets and RemoteSocket.Disconnect(true).
func testClusterRemoteDisconnect(t *testing.T, m mode) {
	var (
		mu      sync.Mutex
		kickErr error
		kicked  []string
	)
	res, c := runCluster(t, m, "remote_disconnect", func(c *cluster) {
		for k, ts := range c.servers {
			ts.srv.On("kick", func(ctx context.Context, ev *socketio.Event) error {
				var id string
				if err := ev.Scan(&id); err != nil {
					return err
				}
				ctx, cancel := context.WithTimeout(ctx, handlerWait)
				defer cancel()
				rs, err := ts.srv.In(id).FetchSockets(ctx)
				for _, r := range rs {
					if derr := r.Disconnect(true); derr != nil {
						err = errors.Join(err, derr)
					}
				}
				mu.Lock()
				kickErr = err
				for _, r := range rs {
					kicked = append(kicked, r.ID)
				}
				mu.Unlock()
				return ev.Ack(map[string]int{"found": len(rs), "server": k})
			})
		}
	})

	var obs struct {
		IDs          []string        `json:"ids"`
		Kick         json.RawMessage `json:"kick"`
		TargetActive bool            `json:"targetActive"`
	}
	res.decodeObs(t, &obs)
	require.Len(t, obs.IDs, 3, "client: ids of its sockets")
	mu.Lock()
	assert.NoError(t, kickErr, "server 0: FetchSockets and RemoteSocket.Disconnect(true)")
	assert.Equal(t, []string{obs.IDs[1]}, kicked, "server 0: the sockets In(c1's id) found")
	mu.Unlock()
	assertJSON(t, `{"found":1,"server":0}`, obs.Kick, "client: ack of kick")
	assert.False(t, obs.TargetActive, "client c1: socket.active after the remote disconnect (no reconnection)")

	target := res.socket(t, "c1")
	assertClientReasons(t, target, "c1 (disconnected by server 0 while on server 1)", clientReasonServerDisconnect)
	assert.Len(t, target.Connections, 1, "client c1: connections")
	assertServerReason(t, c.servers[1].byName(t, "/", "c1"), "1: c1", socketio.ReasonServerNamespaceDisconnect)
	for _, i := range []int{0, 2} {
		name := clientName(i)
		assertClientReasons(t, res.socket(t, name), name, clientReasonClientDisconnect)
		assertServerReason(t, c.servers[i].byName(t, "/", name), fmt.Sprintf("%d: %s", i, name), socketio.ReasonClientNamespaceDisconnect)
		assert.Equalf(t, []string{"fin", "fin"}, res.socket(t, name).eventNames(), "client %s: events (the fins of servers 0 and 2)", name)
	}
	assert.Empty(t, target.eventNames(), "client c1: events")
}

// testClusterServerSideEmit: server 0's ServerSideEmitWithAck runs the
// OnServerEvent handlers of servers 1 and 2, which emit to their own
// clients (Local) and answer.
func testClusterServerSideEmit(t *testing.T, m mode) {
	var (
		mu      sync.Mutex
		pings   = map[int][]int{} // server → origins of the pings it handled
		pingErr error
		asked   []int
	)
	res, c := runCluster(t, m, "server_side_emit", func(c *cluster) {
		for k, ts := range c.servers {
			ts.srv.OnServerEvent("ping", func(ctx context.Context, ev *socketio.Event) error {
				var origin int
				if err := ev.Scan(&origin); err != nil {
					return err
				}
				mu.Lock()
				pings[k] = append(pings[k], origin)
				mu.Unlock()
				if err := ts.srv.Local().Emit("pinged", origin, k); err != nil {
					return err
				}
				return ev.Ack(k)
			})
			ts.srv.On("ping_servers", func(ctx context.Context, ev *socketio.Event) error {
				ctx, cancel := context.WithTimeout(ctx, handlerWait)
				defer cancel()
				resps, err := ts.srv.ServerSideEmitWithAck(ctx, "ping", k)
				got := []int{}
				for _, r := range resps {
					var n int
					if err := r.Scan(&n); err != nil {
						return err
					}
					got = append(got, n)
				}
				slices.Sort(got)
				mu.Lock()
				pingErr = err
				asked = append(asked, k)
				mu.Unlock()
				return ev.Ack(got)
			})
		}
	})

	var obs struct {
		Answers []int `json:"answers"`
	}
	res.decodeObs(t, &obs)
	assert.Equal(t, []int{1, 2}, obs.Answers, "client: the answers to server 0's ServerSideEmitWithAck")
	mu.Lock()
	assert.Equal(t, []int{0}, asked, "server: ServerSideEmitWithAck ran once, on server 0")
	assert.NoError(t, pingErr, "server 0: ServerSideEmitWithAck")
	assert.Equal(t, map[int][]int{1: {0}, 2: {0}}, pings, "server: OnServerEvent(ping) calls by server (never on the sender)")
	mu.Unlock()
	for i := range clusterClients {
		s := res.socket(t, clientName(i))
		k := clusterServerOf(i)
		if k == 0 {
			assert.Equalf(t, []string{"fin", "fin", "fin"}, s.eventNames(), "client %s (server 0, the sender's): no pinged", s.Name)
			continue
		}
		assert.Equalf(t, []string{"pinged", "fin", "fin", "fin"}, s.eventNames(), "client %s (server %d): events", s.Name, k)
		assertArgs(t, s, "pinged", fmt.Sprintf("[0,%d]", k), fmt.Sprintf("client %s: pinged [origin, emitting server]", s.Name))
	}
	assertClusterEndedByClient(t, res, c)
}

// --- harness --------------------------------------------------------------

// cluster is clusterServers Socket.IO servers joined by the NATS adapter
// over one embedded NATS server.
type cluster struct {
	servers []*sioServer
}

// clientName is the script's name of client i.
func clientName(i int) string { return "c" + strconv.Itoa(i) }

// clusterServerOf is the server client i connects to (round-robin).
func clusterServerOf(i int) int { return i % clusterServers }

// startCluster starts an embedded NATS server and clusterServers Socket.IO
// servers on 127.0.0.1 (with startSocketIO's conformance options), each
// with its own NATS connection and the NATS adapter under a prefix of its
// own, and waits until every server counts all of them. Everything is shut
// down when t ends: the Socket.IO servers first (their adapters say
// goodbye over NATS), then the connections, then NATS.
func startCluster(t *testing.T) *cluster {
	t.Helper()
	bus, err := natsembed.Start(nil)
	require.NoError(t, err, "natsembed.Start")
	t.Cleanup(bus.Shutdown)
	prefix := fmt.Sprintf("conformance%d", clusterPrefixes.Add(1))

	c := &cluster{}
	for k := range clusterServers {
		nc, err := bus.Connect(nats.Name("gosio-conformance-" + strconv.Itoa(k)))
		require.NoError(t, err, "NATS connection of server %d", k)
		t.Cleanup(nc.Close) // registered before the server's: runs after its shutdown
		logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})).With("server", k)
		ts := startSocketIO(t, func(o *socketio.Options) {
			o.Logger = logger
			o.Adapter = natsadapter.New(nc,
				natsadapter.WithSubjectPrefix(prefix),
				natsadapter.WithHeartbeat(clusterHeartbeat, clusterHeartbeatTimeout),
				natsadapter.WithLogger(logger.With("component", "natsadapter")),
			)
		})
		c.servers = append(c.servers, ts)
	}

	ctx, cancel := context.WithTimeout(t.Context(), clusterFormWait)
	defer cancel()
	for k, ts := range c.servers {
		n := 0
		for ctx.Err() == nil {
			if n, err = ts.srv.ServerCount(ctx); err == nil && n == clusterServers {
				break
			}
			select {
			case <-ctx.Done():
			case <-time.After(10 * time.Millisecond):
			}
		}
		require.Equalf(t, clusterServers, n, "server %d: ServerCount within %v (last error: %v)", k, clusterFormWait, err)
	}
	return c
}

// runCluster starts a cluster, lets setup register the servers' handlers
// (besides the common "fin", "join" and "sync"), runs the scenario of
// scripts/cluster_client.cjs in mode m, and checks what every run shares:
// the script's verdict, no client or server errors, every socket
// disconnected and every session closed on every server, the transports of
// every connection on both sides, and that client and servers agree on
// every socket (id, Engine.IO session, and the server it is on).
func runCluster(t *testing.T, m mode, scenario string, setup func(c *cluster)) (*sioResult, *cluster) {
	t.Helper()
	node := requireNode(t, socketIOPackages...)
	t.Cleanup(leakcheck.Check(t)) // registered first, so it runs after the cluster's shutdown
	c := startCluster(t)
	for k, ts := range c.servers {
		// fin: the script's barrier (see cluster_client.cjs).
		ts.srv.On("fin", func(ctx context.Context, ev *socketio.Event) error {
			if err := ts.srv.Emit("fin", k); err != nil {
				return err
			}
			return ev.Ack(k)
		})
		ts.srv.On("join", func(ctx context.Context, ev *socketio.Event) error {
			var rooms []string
			if err := ev.Scan(&rooms); err != nil {
				return err
			}
			ev.Socket().Join(rooms...)
			got := ev.Socket().Rooms()
			slices.Sort(got)
			return ev.Ack(got)
		})
		ts.srv.On("sync", func(ctx context.Context, ev *socketio.Event) error { return ev.Ack() })
	}
	setup(c)

	urls := make([]string, len(c.servers))
	for k, ts := range c.servers {
		urls[k] = ts.url
	}
	urlsJSON, err := json.Marshal(urls)
	require.NoError(t, err)
	transports, err := json.Marshal(m.transports)
	require.NoError(t, err)
	var res sioResult
	run := runScript(t, node, clusterScript, &res,
		"--urls="+string(urlsJSON),
		"--transports="+string(transports),
		"--scenario="+scenario,
		"--path="+c.servers[0].srv.Path(),
	)

	assert.Truef(t, res.OK, "client script failed (exit code %d) at step %q: %s", run.exitCode, res.Step, res.Error)
	assert.Equal(t, 0, run.exitCode, "client script exit code")
	for _, mgr := range res.Managers {
		assert.Emptyf(t, mgr.Errors, "client: Manager %s \"error\" events", mgr.Name)
	}
	assert.False(t, res.Lingered,
		"node stayed alive %v after the scenario ended: a server left a polling request or a connection open (handles are in the script's stderr)",
		scriptLinger)

	for k, ts := range c.servers {
		for _, rec := range ts.all() {
			select {
			case <-rec.disconnected:
			case <-time.After(closeWait):
				t.Fatalf("server %d: socket %s (%s) not disconnected within %v after the client finished", k, rec.id, rec.name, closeWait)
			}
		}
		assert.Eventuallyf(t, func() bool { return ts.srv.Engine().ClientsCount() == 0 }, closeWait, 10*time.Millisecond,
			"server %d: Engine().ClientsCount() must drop to 0 once the client closed every connection", k)
		ts.mu.Lock()
		assert.Emptyf(t, ts.errs, "server %d: errors from handlers (Options.OnError)", k)
		ts.mu.Unlock()
		// The client side of checkTransports once (with server 0), the
		// server side for each server.
		clientSide := &sioResult{}
		if k == 0 {
			clientSide = &res
		}
		checkTransports(t, m, clientSide, ts, nil)
	}
	checkClusterIdentities(t, &res, c)
	return &res, c
}

// checkClusterIdentities checks that the clients and the servers saw the
// same sockets: each "connect" on the client is one OnConnection, with the
// same id, name and Engine.IO session, on the server the client's manager
// connected to, which is the round-robin one.
func checkClusterIdentities(t *testing.T, res *sioResult, c *cluster) {
	t.Helper()
	type ident struct {
		name, sid string
		server    int
	}
	client := map[string]ident{}
	for _, s := range res.Sockets {
		var i int
		_, err := fmt.Sscanf(s.Name, "c%d", &i)
		require.NoErrorf(t, err, "client socket name %q", s.Name)
		for _, conn := range s.Connections {
			client[conn.ID] = ident{s.Name, conn.EngineID, clusterServerOf(i)}
		}
	}
	server := map[string]ident{}
	for k, ts := range c.servers {
		for _, rec := range ts.all() {
			assert.Equalf(t, "/", rec.nsp, "server %d: socket %s namespace", k, rec.id)
			server[rec.id] = ident{rec.name, rec.sid, k}
		}
	}
	assert.Equal(t, client, server,
		"sockets by id: auth name, Engine.IO session and server (i %% 3 for ci) on the client (\"connect\" events) and on the servers (OnConnection)")
}

// assertClusterEndedByClient checks the usual end of a scenario: the client
// disconnected every socket itself, once, on every server.
func assertClusterEndedByClient(t *testing.T, res *sioResult, c *cluster) {
	t.Helper()
	for _, s := range res.Sockets {
		assertClientReasons(t, &s, s.Name, clientReasonClientDisconnect)
	}
	for k, ts := range c.servers {
		for _, rec := range ts.all() {
			assertServerReason(t, rec, fmt.Sprintf("%d: %s", k, rec.name), socketio.ReasonClientNamespaceDisconnect)
		}
	}
}
