package conformance

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/gosio/engineio"
	"github.com/gosio/gosio/internal/leakcheck"
	"github.com/gosio/gosio/socketio"
)

// The socket.io-client scenarios. Each test runs one scenario of
// scripts/socketio_client.cjs in every mode against a server of its own,
// set up by the test; the constants below must match the script's.
const (
	socketIOScript = "scripts/socketio_client.cjs"
	socketIOClient = "socket.io-client"

	unicodeEvent     = "évènement 🎉" // an event name
	largeBinary      = 1 << 20       // bytes of the large binary argument
	rollCallClients  = 5             // clients answering the broadcast with acks
	volatileAttempts = 20            // times the client asks for a volatile emit

	// ackTimeout is the timeout of the emits that are never acknowledged,
	// on both sides.
	ackTimeout = 100 * time.Millisecond
	// handlerWait bounds what a handler waits for (an ack, other servers).
	handlerWait = 5 * time.Second
)

// Reasons as socket.io-client reports them in its "disconnect" event.
const (
	clientReasonClientDisconnect = "io client disconnect"
	clientReasonServerDisconnect = "io server disconnect"
	clientReasonTransportClose   = "transport close"
)

// socketIOPackages are the npm packages the scenarios load: the client and
// the parser and Engine.IO client it runs on.
var socketIOPackages = []string{socketIOClient, "socket.io-parser", engineIOClient}

// socketIOSuite is the table of the socket.io-client scenarios.
var socketIOSuite = suite{
	title:  "Socket.IO",
	file:   "socketio_test.go",
	script: socketIOScript,
	scenarios: []scenario{
		{test: "TestSocketIO_Namespaces", modes: modes, run: testSocketIONamespaces,
			covers: "\"/\" and \"/custom\" multiplexed on one connection"},
		{test: "TestSocketIO_DynamicNamespaces", modes: modes, run: testSocketIODynamicNamespaces,
			covers: "srv.OfRegexp children; \"Invalid namespace\" otherwise"},
		{test: "TestSocketIO_AuthAndMiddleware", modes: modes, run: testSocketIOAuthAndMiddleware,
			covers: "Handshake().Auth and Query; middleware refusing with a *ConnectError (err.message, err.data) or an error"},
		{test: "TestSocketIO_JSONTypes", modes: modes, run: testSocketIOJSONTypes,
			covers: "every JSON type both ways, Go values to JS, and a non-ASCII event name"},
		{test: "TestSocketIO_Binary", modes: modes, run: testSocketIOBinary,
			covers: "Buffers at any depth, nine in one event, 1 MiB, empty, both ways"},
		{test: "TestSocketIO_Acks", modes: modes, run: testSocketIOAcks,
			covers: "ev.Ack and s.EmitWithAck, JSON and binary, empty"},
		{test: "TestSocketIO_AckTimeouts", modes: modes, run: testSocketIOAckTimeouts,
			covers: "socket.timeout().emitWithAck and s.Timeout() that are never answered; a late ack is ignored"},
		{test: "TestSocketIO_Broadcast", modes: modes, run: testSocketIOBroadcast,
			covers: "To, Except, several rooms, sender excluded, socket id rooms, four clients"},
		{test: "TestSocketIO_Volatile", modes: modes, run: testSocketIOVolatile,
			covers: "a volatile emit reaches an idle client"},
		{test: "TestSocketIO_DisconnectReasons", modes: modes, run: testSocketIODisconnectReasons,
			covers: "socket.disconnect(), Disconnect(false), Disconnect(true): reasons on both sides"},
		{test: "TestSocketIO_Reconnection", modes: modes, run: testSocketIOReconnection,
			covers: "Conn().Close(): the client reconnects by itself"},
		{test: "TestSocketIO_CatchAll", modes: modes, run: testSocketIOCatchAll,
			covers: "OnAny / OnAnyOutgoing and onAny / onAnyOutgoing"},
		{test: "TestSocketIO_FetchSockets", modes: modes, run: testSocketIOFetchSockets,
			covers: "ids, rooms and auth of srv.FetchSockets"},
		{test: "TestSocketIO_SocketsJoinLeave", modes: modes, run: testSocketIOSocketsJoinLeave,
			covers: "SocketsJoin, In(id).SocketsLeave, SocketsLeave"},
		{test: "TestSocketIO_DisconnectSockets", modes: modes, run: testSocketIODisconnectSockets,
			covers: "DisconnectSockets(false) on every client"},
		{test: "TestSocketIO_BroadcastWithAcks", modes: modes, run: testSocketIOBroadcastWithAcks,
			covers: "Timeout(2s).EmitWithAck to five clients"},
		{test: "TestSocketIO_ConnectTimeout", modes: modes, run: testSocketIOConnectTimeout,
			covers: "a connection that joins no namespace is closed"},
	},
}

func TestSocketIO_Namespaces(t *testing.T) { runScenario(t) }

func testSocketIONamespaces(t *testing.T, m mode) {
	res, ts := runSocketIO(t, m, sioScenario{name: "namespaces", setup: func(ts *sioServer) {
		for _, ns := range []*socketio.Namespace{ts.srv.Of("/"), ts.srv.Of("/custom")} {
			if ns.Name() != "/" {
				ts.watch(ns)
			}
			ns.OnConnection(func(ctx context.Context, s *socketio.Socket) error {
				return s.Emit("welcome", map[string]string{"nsp": s.Namespace().Name(), "id": s.ID()})
			})
			ns.On("whoami", func(ctx context.Context, ev *socketio.Event) error {
				s := ev.Socket()
				return ev.Ack(map[string]string{"nsp": s.Namespace().Name(), "id": s.ID(), "sid": s.Conn().ID()})
			})
		}
	}})

	var obs struct {
		Whoami map[string]json.RawMessage `json:"whoami"`
	}
	res.decodeObs(t, &obs)
	main, custom := res.socket(t, "main"), res.socket(t, "custom")
	srvMain, srvCustom := ts.byName(t, "/", "main"), ts.byName(t, "/custom", "custom")

	assert.Equal(t, "/", srvMain.nsp)
	assert.Equal(t, "/custom", srvCustom.nsp)
	assert.Equal(t, srvMain.sid, srvCustom.sid, "server: both sockets must share one Engine.IO session (Socket.Conn)")
	if assert.Len(t, res.manager(t, "m0").Engines, 1, "client: one connection for both namespaces") {
		assert.Equal(t, res.manager(t, "m0").Engines[0].ID, srvMain.sid, "client's engine id must be the server session's ID()")
	}
	assertArgs(t, main, "welcome", fmt.Sprintf(`[{"nsp":"/","id":%q}]`, srvMain.id), "client: welcome on /")
	assertArgs(t, custom, "welcome", fmt.Sprintf(`[{"nsp":"/custom","id":%q}]`, srvCustom.id), "client: welcome on /custom")
	assertJSON(t, fmt.Sprintf(`{"nsp":"/","id":%q,"sid":%q}`, srvMain.id, srvMain.sid), obs.Whoami["main"], "client: ack of whoami on /")
	assertJSON(t, fmt.Sprintf(`{"nsp":"/custom","id":%q,"sid":%q}`, srvCustom.id, srvCustom.sid), obs.Whoami["custom"], "client: ack of whoami on /custom")
	assertEndedByClient(t, res, ts)
}

func TestSocketIO_DynamicNamespaces(t *testing.T) { runScenario(t) }

func testSocketIODynamicNamespaces(t *testing.T, m mode) {
	var (
		parent  *socketio.ParentNamespace
		mu      sync.Mutex
		created []string
	)
	res, ts := runSocketIO(t, m, sioScenario{name: "dynamic_namespaces", setup: func(ts *sioServer) {
		parent = ts.srv.OfRegexp(regexp.MustCompile(`^/dyn-\d+$`))
		ts.watch(parent)
		parent.OnNamespace(func(ns *socketio.Namespace) {
			mu.Lock()
			defer mu.Unlock()
			created = append(created, ns.Name())
		})
		parent.On("whoami", func(ctx context.Context, ev *socketio.Event) error {
			return ev.Ack(map[string]string{"nsp": ev.Socket().Namespace().Name(), "id": ev.Socket().ID()})
		})
	}})

	var obs struct {
		Whoami    map[string]json.RawMessage `json:"whoami"`
		BadActive bool                       `json:"badActive"`
	}
	res.decodeObs(t, &obs)
	d1, d22 := ts.byName(t, "/dyn-1", "dyn1"), ts.byName(t, "/dyn-22", "dyn22")
	mu.Lock()
	assert.ElementsMatch(t, []string{"/dyn-1", "/dyn-22"}, created, "server: OnNamespace calls (one per matching name, none for /dyn-x)")
	mu.Unlock()
	var children []string
	for _, ns := range parent.Children() {
		children = append(children, ns.Name())
	}
	assert.ElementsMatch(t, []string{"/dyn-1", "/dyn-22"}, children, "server: ParentNamespace.Children()")
	assertJSON(t, fmt.Sprintf(`{"nsp":"/dyn-1","id":%q}`, d1.id), obs.Whoami["dyn1"], "client: whoami on /dyn-1, handled by the parent's handler")
	assertJSON(t, fmt.Sprintf(`{"nsp":"/dyn-22","id":%q}`, d22.id), obs.Whoami["dyn22"], "client: whoami on /dyn-22")
	bad := res.socket(t, "dynx")
	assertConnectErrors(t, bad, `[{"message":"Invalid namespace","data":null}]`)
	assert.Empty(t, bad.Connections, "client: /dyn-x must not connect")
	assert.False(t, obs.BadActive, "client: socket.active after the connect_error (no retry)")
	assert.Empty(t, ts.inNamespace("/dyn-x"), "server: no socket in /dyn-x")
	assertEndedByClient(t, res, ts)
}

func TestSocketIO_AuthAndMiddleware(t *testing.T) { runScenario(t) }

func testSocketIOAuthAndMiddleware(t *testing.T, m mode) {
	var (
		mu   sync.Mutex
		seen = map[string][]string{} // namespace → auth payloads seen by its middleware
	)
	note := func(s *socketio.Socket) {
		mu.Lock()
		defer mu.Unlock()
		seen[s.Namespace().Name()] = append(seen[s.Namespace().Name()], string(s.Handshake().Auth))
	}
	res, ts := runSocketIO(t, m, sioScenario{name: "auth", noUpgrade: []string{"bad"}, setup: func(ts *sioServer) {
		ts.srv.Use(func(ctx context.Context, s *socketio.Socket) error {
			note(s)
			var auth struct {
				Token string `json:"token"`
			}
			if err := json.Unmarshal(s.Handshake().Auth, &auth); err != nil || auth.Token != "secret" {
				return &socketio.ConnectError{Message: "not authorized", Data: map[string]any{"code": 4001, "reason": "bad token"}}
			}
			return nil
		})
		plain := ts.srv.Of("/plain")
		ts.watch(plain)
		plain.Use(func(ctx context.Context, s *socketio.Socket) error {
			note(s)
			return errors.New("plain refusal")
		})
		ts.srv.On("auth", func(ctx context.Context, ev *socketio.Event) error {
			h := ev.Socket().Handshake()
			q := url.Values(h.Query)
			return ev.Ack(json.RawMessage(h.Auth), map[string]string{"q": q.Get("q"), "list": q.Get("list"), "EIO": q.Get("EIO")})
		})
	}})

	var obs struct {
		BadActive   bool            `json:"badActive"`
		PlainActive bool            `json:"plainActive"`
		AuthEcho    json.RawMessage `json:"authEcho"`
	}
	res.decodeObs(t, &obs)
	wantAuth := fmt.Sprintf(`{"name":"good","token":"secret","user":%q,"n":1.5,"nested":{"list":[1,null,"x"]}}`, unicodeText)
	good := ts.byName(t, "/", "good")
	assertJSON(t, wantAuth, good.auth, "server: Handshake().Auth in OnConnection")
	assertJSON(t, `[`+wantAuth+`,{"q":"1","list":"ü","EIO":"4"}]`, obs.AuthEcho,
		"client: the auth payload and the query parameters (Manager's query option) the server acked back")

	mu.Lock()
	if assert.Len(t, seen["/"], 2, "server: middleware calls on /") {
		assert.ElementsMatch(t, []string{"good", "bad"}, []string{authName(seen["/"][0]), authName(seen["/"][1])})
		for _, a := range seen["/"] {
			if authName(a) == "bad" {
				assertJSON(t, `{"name":"bad","token":"wrong"}`, json.RawMessage(a), "server: Handshake().Auth of the refused socket, in the middleware")
			}
		}
	}
	if assert.Len(t, seen["/plain"], 1, "server: middleware calls on /plain") {
		assertJSON(t, `{"name":"plain"}`, json.RawMessage(seen["/plain"][0]), "server: Handshake().Auth on /plain")
	}
	mu.Unlock()

	bad, plain := res.socket(t, "bad"), res.socket(t, "plain")
	assertConnectErrors(t, bad, `[{"message":"not authorized","data":{"code":4001,"reason":"bad token"}}]`)
	assertConnectErrors(t, plain, `[{"message":"plain refusal","data":null}]`)
	assert.Empty(t, bad.Connections, "client: the refused socket must not connect")
	assert.Empty(t, plain.Connections, "client: the socket refused on /plain must not connect")
	assert.False(t, obs.BadActive, "client: socket.active after a middleware refusal (no retry)")
	assert.False(t, obs.PlainActive, "client: socket.active after a middleware refusal on /plain")
	assert.Len(t, ts.all(), 1, "server: only the accepted socket reaches OnConnection")
	assertEndedByClient(t, res, ts)
}

func TestSocketIO_JSONTypes(t *testing.T) { runScenario(t) }

func testSocketIOJSONTypes(t *testing.T, m mode) {
	// What the server emits from Go values, and the JSON the client must
	// see: encoding/json's rules (nil slices and maps are null, sorted map
	// keys, omitempty), uint64 beyond 2^53 as a JSON number.
	type goStruct struct {
		A int      `json:"a"`
		B []string `json:"b"`
		C *int     `json:"c"`
		D string   `json:"d,omitempty"`
	}
	goTypes := []any{int64(-42), uint64(1 << 53), float32(1.5), int8(-128), "ünï 🙂", goStruct{A: 1},
		[]string(nil), map[string]int{"z": 1, "a": 2}, []any{}, map[string]any{}, json.RawMessage(`{"raw":[1,2.5]}`), true, nil}
	const wantGoTypes = `[-42,9007199254740992,1.5,-128,"ünï 🙂",{"a":1,"b":null,"c":null},null,{"a":2,"z":1},[],{},{"raw":[1,2.5]},true,null]`

	var (
		mu   sync.Mutex
		raws []json.RawMessage
	)
	res, ts := runSocketIO(t, m, sioScenario{name: "json_types", setup: func(ts *sioServer) {
		ts.srv.On(unicodeEvent, func(ctx context.Context, ev *socketio.Event) error {
			var s string
			if err := ev.Scan(&s); err != nil {
				return err
			}
			return ev.Ack(ev.Name(), s)
		})
		ts.srv.On("types", func(ctx context.Context, ev *socketio.Event) error {
			mu.Lock()
			for i := range ev.NumArgs() {
				raws = append(raws, slices.Clone(ev.Raw(i)))
			}
			mu.Unlock()
			vals, err := scanAll(ev)
			if err != nil {
				return err
			}
			if err := ev.Socket().Emit("types", vals...); err != nil {
				return err
			}
			return ev.Socket().Emit("go_types", goTypes...)
		})
	}})

	var obs struct {
		Sent         []json.RawMessage `json:"sent"`
		UnicodeEvent json.RawMessage   `json:"unicodeEvent"`
	}
	res.decodeObs(t, &obs)
	require.NotEmpty(t, obs.Sent, "client must report what it sent")
	c := res.socket(t, "c0")

	mu.Lock()
	if assert.Len(t, raws, len(obs.Sent), "server: number of arguments received") {
		for i := range raws {
			assert.JSONEqf(t, string(obs.Sent[i]), string(raws[i]), "server: argument %d as received (Event.Raw)", i)
		}
	}
	mu.Unlock()
	if ev := c.event(t, "types"); ev != nil {
		var got []json.RawMessage
		require.NoError(t, json.Unmarshal(ev.Args, &got))
		if assert.Len(t, got, len(obs.Sent), "client: number of arguments echoed") {
			for i := range got {
				assert.JSONEqf(t, string(obs.Sent[i]), string(got[i]), "client: argument %d after the round trip through Go values", i)
			}
		}
	}
	assertArgs(t, c, "go_types", wantGoTypes, "client: arguments emitted from Go values")
	assertJSON(t, string(mustJSON([]string{unicodeEvent, unicodeText})), obs.UnicodeEvent,
		"client: ack of the handler of an event with a non-ASCII name (Event.Name() and the argument)")
	assertEndedByClient(t, res, ts)
}

func TestSocketIO_Binary(t *testing.T) { runScenario(t) }

func testSocketIOBinary(t *testing.T, m mode) {
	serverBinary := []any{
		[]byte{0xde, 0xad, 0xbe, 0xef},
		map[string]any{"k": []byte{1}, "list": [][]byte{{2}, {3, 4}}, "text": "t"},
		[]byte{},
	}
	wantServerBinary := mustJSON(describeBinary(serverBinary))

	var (
		mu       sync.Mutex
		received json.RawMessage
	)
	res, ts := runSocketIO(t, m, sioScenario{
		name: "binary",
		// Node's default maxHttpBufferSize (1e6, and so ours) refuses a
		// 1 MiB attachment, as Node does; raise it as a Node user would.
		opts: func(o *socketio.Options) { o.Engine.MaxHTTPBufferSize = 4 << 20 },
		setup: func(ts *sioServer) {
			ts.srv.On("bin", func(ctx context.Context, ev *socketio.Event) error {
				vals, err := scanAll(ev)
				if err != nil {
					return err
				}
				mu.Lock()
				received = mustJSON(describeBinary(vals))
				mu.Unlock()
				if err := ev.Socket().Emit("bin", vals...); err != nil {
					return err
				}
				return ev.Socket().Emit("bin_server", serverBinary...)
			})
		},
	})

	var obs struct {
		Sent          json.RawMessage `json:"sent"`
		SentTypes     []string        `json:"sentTypes"`
		ReceivedTypes []string        `json:"receivedTypes"`
		ServerTypes   []string        `json:"serverTypes"`
	}
	res.decodeObs(t, &obs)
	require.NotEmpty(t, obs.Sent, "client must report what it sent")
	assert.Len(t, obs.SentTypes, 9, "client sent 9 binary values in one event (script out of sync?)")
	assert.Contains(t, string(obs.Sent), fmt.Sprintf(`"length":%d`, largeBinary), "client sent a 1 MiB attachment (script out of sync?)")
	c := res.socket(t, "c0")

	mu.Lock()
	assertJSON(t, string(obs.Sent), received, "server: the event's values, []byte at every depth (length and SHA-256)")
	mu.Unlock()
	assertArgs(t, c, "bin", string(obs.Sent), "client: the event echoed from the values the server decoded")
	assert.Equal(t, slices.Repeat([]string{"Buffer"}, len(obs.SentTypes)), obs.ReceivedTypes, "client: JS classes of the echoed binary values")
	assertArgs(t, c, "bin_server", string(wantServerBinary), "client: []byte values emitted by the server")
	assert.Equal(t, []string{"Buffer", "Buffer", "Buffer", "Buffer", "Buffer"}, obs.ServerTypes, "client: JS classes of the server's binary values")
	assertEndedByClient(t, res, ts)
}

func TestSocketIO_Acks(t *testing.T) { runScenario(t) }

func testSocketIOAcks(t *testing.T, m mode) {
	type ackSeen struct {
		numArgs int
		n       int
		bin     []byte
		obj     json.RawMessage
		err     error
	}
	var (
		mu            sync.Mutex
		fromClient    *ackSeen
		emptyFromClnt = -1
	)
	res, ts := runSocketIO(t, m, sioScenario{name: "acks", setup: func(ts *sioServer) {
		ts.srv.On("sum", func(ctx context.Context, ev *socketio.Event) error {
			var a, b int
			var bin []byte
			if err := ev.Scan(&a, &b, &bin); err != nil {
				return err
			}
			rev := slices.Clone(bin)
			slices.Reverse(rev)
			return ev.Ack(a+b, strconv.Itoa(a+b), rev)
		})
		ts.srv.On("empty_ack", func(ctx context.Context, ev *socketio.Event) error { return ev.Ack() })
		ts.srv.On("start_server_ack", func(ctx context.Context, ev *socketio.Event) error {
			ctx, cancel := context.WithTimeout(ctx, handlerWait)
			defer cancel()
			resp, err := ev.Socket().EmitWithAck(ctx, "double", 21, []byte{5})
			seen := &ackSeen{err: err}
			if err == nil {
				seen.numArgs = resp.NumArgs()
				seen.err = resp.Scan(&seen.n, &seen.bin, &seen.obj)
			}
			mu.Lock()
			fromClient = seen
			mu.Unlock()
			if seen.err != nil {
				return ev.Ack(map[string]string{"error": seen.err.Error()})
			}
			return ev.Ack(map[string]any{"n": seen.n, "bin": seen.bin, "obj": seen.obj, "numArgs": seen.numArgs})
		})
		ts.srv.On("start_server_empty_ack", func(ctx context.Context, ev *socketio.Event) error {
			ctx, cancel := context.WithTimeout(ctx, handlerWait)
			defer cancel()
			resp, err := ev.Socket().EmitWithAck(ctx, "empty")
			if err != nil {
				return ev.Ack(map[string]string{"error": err.Error()})
			}
			mu.Lock()
			emptyFromClnt = resp.NumArgs()
			mu.Unlock()
			return ev.Ack(map[string]int{"numArgs": resp.NumArgs()})
		})
	}})

	var obs struct {
		DoubleArgs     json.RawMessage `json:"doubleArgs"`
		SumWithAck     json.RawMessage `json:"sumWithAck"`
		SumAll         json.RawMessage `json:"sumAll"`
		EmptyAck       json.RawMessage `json:"emptyAck"`
		ServerAck      json.RawMessage `json:"serverAck"`
		ServerEmptyAck json.RawMessage `json:"serverEmptyAck"`
	}
	res.decodeObs(t, &obs)
	assertJSON(t, `3`, obs.SumWithAck, "client: emitWithAck(\"sum\", 1, 2, <7 8>) resolves with the ack's first argument")
	assertJSON(t, `[42,"42",`+binJSON([]byte{9})+`]`, obs.SumAll, "client: every argument of the ack, the []byte as a Buffer")
	assertJSON(t, `[]`, obs.EmptyAck, "client: Event.Ack() with no arguments")
	assertJSON(t, `[21,`+binJSON([]byte{5})+`,"function"]`, obs.DoubleArgs, "client: arguments of the server's EmitWithAck, then an ack callback")
	assertJSON(t, `{"n":42,"bin":`+binJSON([]byte{42, 43})+`,"obj":{"ok":true},"numArgs":3}`, obs.ServerAck,
		"client: what the server decoded from the client's ack, sent back")
	assertJSON(t, `{"numArgs":0}`, obs.ServerEmptyAck, "client: the server's view of an ack with no arguments")

	mu.Lock()
	defer mu.Unlock()
	if assert.NotNil(t, fromClient, "server: EmitWithAck(\"double\") must return") {
		assert.NoError(t, fromClient.err, "server: EmitWithAck(\"double\") and AckResponse.Scan")
		assert.Equal(t, 3, fromClient.numArgs, "server: AckResponse.NumArgs")
		assert.Equal(t, 42, fromClient.n, "server: first ack argument")
		assert.Equal(t, []byte{42, 43}, fromClient.bin, "server: binary ack argument (BINARY_ACK from the client)")
		assert.JSONEq(t, `{"ok":true}`, string(fromClient.obj), "server: object ack argument")
	}
	assert.Equal(t, 0, emptyFromClnt, "server: AckResponse.NumArgs of cb()")
	assertEndedByClient(t, res, ts)
}

func TestSocketIO_AckTimeouts(t *testing.T) { runScenario(t) }

func testSocketIOAckTimeouts(t *testing.T, m mode) {
	var (
		mu           sync.Mutex
		neverAckArgs json.RawMessage
		neverAckHas  bool
		serverErr    error
		serverWaited time.Duration
		serverDone   bool
	)
	res, ts := runSocketIO(t, m, sioScenario{name: "ack_timeouts", setup: func(ts *sioServer) {
		ts.srv.On("never_ack", func(ctx context.Context, ev *socketio.Event) error {
			mu.Lock()
			defer mu.Unlock()
			neverAckArgs, neverAckHas = slices.Clone(ev.Raw(0)), ev.HasAck()
			return nil // and never acknowledge
		})
		ts.srv.On("start_server_timeout", func(ctx context.Context, ev *socketio.Event) error {
			start := time.Now()
			_, err := ev.Socket().Timeout(ackTimeout).EmitWithAck(ctx, "client_never_acks", 7)
			waited := time.Since(start)
			mu.Lock()
			serverErr, serverWaited, serverDone = err, waited, true
			mu.Unlock()
			return ev.Ack(map[string]any{"deadlineExceeded": errors.Is(err, context.DeadlineExceeded)})
		})
		ts.srv.On("alive", func(ctx context.Context, ev *socketio.Event) error { return ev.Ack("yes") })
	}})

	var obs struct {
		ClientTimeout struct {
			Error     string          `json:"error"`
			ElapsedMs int             `json:"elapsedMs"`
			Resolved  json.RawMessage `json:"resolved"`
		} `json:"clientTimeout"`
		NeverAckReceived json.RawMessage `json:"neverAckReceived"`
		ServerTimeout    json.RawMessage `json:"serverTimeout"`
		Alive            json.RawMessage `json:"alive"`
	}
	res.decodeObs(t, &obs)
	assert.Nil(t, obs.ClientTimeout.Resolved, "client: timeout(100).emitWithAck must not resolve")
	assert.Equal(t, "operation has timed out", obs.ClientTimeout.Error, "client: the timeout error")
	assert.GreaterOrEqual(t, obs.ClientTimeout.ElapsedMs, int(ackTimeout.Milliseconds())-5, "client: time until the timeout error, ms")
	assertJSON(t, `[7,"function"]`, obs.NeverAckReceived, "client: the server's event arrives with an ack callback")
	assertJSON(t, `{"deadlineExceeded":true}`, obs.ServerTimeout, "client: the server's verdict")
	assertJSON(t, `"yes"`, obs.Alive, "client: the connection still works after a late ack")

	mu.Lock()
	defer mu.Unlock()
	assert.True(t, neverAckHas, "server: Event.HasAck() for an event sent with timeout().emitWithAck")
	assert.JSONEq(t, `1`, string(neverAckArgs), "server: argument of never_ack")
	if assert.True(t, serverDone, "server: Timeout(100ms).EmitWithAck must return") {
		assert.ErrorIs(t, serverErr, context.DeadlineExceeded, "server: Timeout(100ms).EmitWithAck error")
		assert.GreaterOrEqual(t, serverWaited, ackTimeout, "server: EmitWithAck returned before its timeout")
	}
	assertEndedByClient(t, res, ts)
}

func TestSocketIO_Broadcast(t *testing.T) { runScenario(t) }

func testSocketIOBroadcast(t *testing.T, m mode) {
	res, ts := runSocketIO(t, m, sioScenario{name: "broadcast", setup: func(ts *sioServer) {
		ts.srv.On("join", func(ctx context.Context, ev *socketio.Event) error {
			var rooms []string
			if err := ev.Scan(&rooms); err != nil {
				return err
			}
			s := ev.Socket()
			s.Join(rooms...)
			return ev.Ack(otherRooms(s.Rooms(), s.ID()))
		})
		ts.srv.On("fanout", func(ctx context.Context, ev *socketio.Event) error {
			var c3 string
			if err := ev.Scan(&c3); err != nil {
				return err
			}
			s, srv := ev.Socket(), ts.srv
			for _, e := range []struct {
				name string
				op   socketio.BroadcastOperator
			}{
				{"to_a_from_sender", s.To("a")},
				{"srv_to_a", srv.To("a")},
				{"a_or_b", srv.To("a", "b")},
				{"a_except_b", srv.To("a").Except("b")},
				{"bcast", s.Broadcast()},
				{"except_a", srv.Except("a")},
				{"sender_except_b", s.Except("b")},
				{"to_socket_id", srv.To(c3)},
			} {
				if err := e.op.Emit(e.name, "c0"); err != nil {
					return fmt.Errorf("%s: %w", e.name, err)
				}
			}
			if err := srv.Emit("done"); err != nil {
				return err
			}
			return ev.Ack("ok")
		})
	}})

	var obs struct {
		Joined []json.RawMessage `json:"joined"`
		Fanout json.RawMessage   `json:"fanout"`
	}
	res.decodeObs(t, &obs)
	if assert.Len(t, obs.Joined, 4, "client: acks of join") {
		for i, want := range []string{`["a"]`, `["a","b"]`, `["b"]`, `[]`} {
			assertJSON(t, want, obs.Joined[i], fmt.Sprintf("server: rooms of c%d after Join (its own room left out)", i))
		}
	}
	assertJSON(t, `"ok"`, obs.Fanout, "client: ack of fanout")
	// c0 (the sender) is in a, c1 in a and b, c2 in b, c3 in none.
	for name, want := range map[string][]string{
		"c0": {"srv_to_a", "a_or_b", "a_except_b", "done"},
		"c1": {"to_a_from_sender", "srv_to_a", "a_or_b", "bcast", "done"},
		"c2": {"a_or_b", "bcast", "except_a", "done"},
		"c3": {"bcast", "except_a", "sender_except_b", "to_socket_id", "done"},
	} {
		assert.Equalf(t, want, res.socket(t, name).eventNames(), "client %s: events received, in order (each once)", name)
	}
	assertEndedByClient(t, res, ts)
}

// A volatile emit to a connected, idle client arrives. Volatile packets may
// be dropped while the transport is busy (Node drops them unless the
// transport is writable), so the client asks up to volatileAttempts times;
// drops are logged, not asserted.
func TestSocketIO_Volatile(t *testing.T) { runScenario(t) }

func testSocketIOVolatile(t *testing.T, m mode) {
	var (
		mu       sync.Mutex
		requests []int
	)
	res, ts := runSocketIO(t, m, sioScenario{name: "volatile", setup: func(ts *sioServer) {
		ts.srv.On("vol_req", func(ctx context.Context, ev *socketio.Event) error {
			var n int
			if err := ev.Scan(&n); err != nil {
				return err
			}
			mu.Lock()
			requests = append(requests, n)
			mu.Unlock()
			if err := ev.Socket().Volatile().Emit("vol", n); err != nil {
				return err
			}
			return ev.Ack(n)
		})
	}})

	var obs struct {
		Attempts int `json:"attempts"`
	}
	res.decodeObs(t, &obs)
	t.Logf("volatile emit delivered at attempt %d (%d dropped)", obs.Attempts, obs.Attempts-1)
	c := res.socket(t, "c0")
	var got []string
	for _, e := range c.Events {
		if e.Event == "vol" {
			got = append(got, string(e.Args))
		}
	}
	assert.Equal(t, []string{fmt.Sprintf("[%d]", obs.Attempts)}, got,
		"client: one volatile event, from the last request (a volatile packet is queued before the ack that follows it)")
	assert.LessOrEqual(t, obs.Attempts, volatileAttempts, "client: attempts")
	mu.Lock()
	assert.Len(t, requests, obs.Attempts, "server: vol_req events")
	mu.Unlock()
	assertEndedByClient(t, res, ts)
}

func TestSocketIO_DisconnectReasons(t *testing.T) { runScenario(t) }

func testSocketIODisconnectReasons(t *testing.T, m mode) {
	res, ts := runSocketIO(t, m, sioScenario{name: "disconnect_reasons", setup: func(ts *sioServer) {
		ts.watch(ts.srv.Of("/custom"))
		ts.srv.On("disconnect_me", func(ctx context.Context, ev *socketio.Event) error {
			var closeConn bool
			if err := ev.Scan(&closeConn); err != nil {
				return err
			}
			ev.Socket().Disconnect(closeConn)
			return nil
		})
	}})

	var obs struct {
		Active map[string]bool `json:"active"`
	}
	res.decodeObs(t, &obs)
	for _, c := range []struct {
		name, nsp, desc string
		client          string
		server          socketio.Reason
		closesConn      bool // the server closes the Engine.IO connection too
	}{
		{"A", "/", "socket.disconnect() on the client", clientReasonClientDisconnect, socketio.ReasonClientNamespaceDisconnect, false},
		{"B", "/", "Disconnect(false) on the server", clientReasonServerDisconnect, socketio.ReasonServerNamespaceDisconnect, false},
		{"C", "/", "Disconnect(true) on the server", clientReasonServerDisconnect, socketio.ReasonServerNamespaceDisconnect, true},
		{"C2", "/custom", "Disconnect(true) of the same connection's / socket", clientReasonServerDisconnect, socketio.ReasonServerNamespaceDisconnect, true},
	} {
		sock := res.socket(t, c.name)
		assertClientReasons(t, sock, fmt.Sprintf("%s (%s)", c.name, c.desc), c.client)
		assertServerReason(t, ts.byName(t, c.nsp, c.name), fmt.Sprintf("%s (%s)", c.name, c.desc), c.server)
		assert.Falsef(t, obs.Active[c.name], "client %s: socket.active after %s (it must not reconnect)", c.name, c.desc)
		assert.Lenf(t, res.socket(t, c.name).Connections, 1, "client %s: connections", c.name)
	}
}

func TestSocketIO_Reconnection(t *testing.T) { runScenario(t) }

func testSocketIOReconnection(t *testing.T, m mode) {
	res, ts := runSocketIO(t, m, sioScenario{name: "reconnection", setup: func(ts *sioServer) {
		ts.srv.On("close_conn", func(ctx context.Context, ev *socketio.Event) error {
			if err := ev.Socket().Emit("before_close"); err != nil {
				return err
			}
			return ev.Socket().Conn().Close()
		})
		ts.srv.On("whoami", func(ctx context.Context, ev *socketio.Event) error { return ev.Ack(ev.Socket().ID()) })
	}})

	var obs struct {
		Whoami json.RawMessage `json:"whoami"`
	}
	res.decodeObs(t, &obs)
	recs := ts.all()
	require.Len(t, recs, 2, "server: two connections of the client (OnConnection calls)")
	first, second := recs[0], recs[1]
	assert.NotEqual(t, first.id, second.id, "server: the reconnected socket has a new id")
	assert.NotEqual(t, first.sid, second.sid, "server: the reconnected socket has a new Engine.IO session")
	assertServerReason(t, first, "first connection (Conn().Close())", socketio.ReasonForcedClose)
	assertServerReason(t, second, "second connection", socketio.ReasonClientNamespaceDisconnect)

	c := res.socket(t, "c0")
	if assert.Len(t, c.Connections, 2, "client: \"connect\" events") {
		assert.Equal(t, first.id, c.Connections[0].ID)
		assert.Equal(t, second.id, c.Connections[1].ID)
	}
	assertClientReasons(t, c, "c0", clientReasonTransportClose, clientReasonClientDisconnect)
	// Over polling this also checks that the close packet is not bundled
	// with the queued packets (Node sends it in a later answer).
	want := []string{"connect", "event: before_close", "disconnect: transport close", "connect", "disconnect: io client disconnect"}
	assert.Equal(t, want, c.Timeline, "client: events in order (the event emitted before Conn().Close() arrives before the disconnect)")
	mgr := res.manager(t, "m0")
	assert.Equal(t, []int{1}, mgr.Reconnects, "client: Manager \"reconnect\" events (attempt numbers)")
	if assert.Len(t, mgr.Engines, 2, "client: Engine.IO connections") && assert.NotNil(t, mgr.Engines[0].Close) {
		assert.Equal(t, clientReasonTransportClose, mgr.Engines[0].Close.Reason, "client: close reason of the first connection")
	}
	assertJSON(t, strconv.Quote(second.id), obs.Whoami, "client: whoami after reconnecting")
}

func TestSocketIO_CatchAll(t *testing.T) { runScenario(t) }

func testSocketIOCatchAll(t *testing.T, m mode) {
	var (
		mu     sync.Mutex
		anyIn  []string
		anyOut []string
	)
	res, ts := runSocketIO(t, m, sioScenario{name: "catch_all", setup: func(ts *sioServer) {
		ts.srv.OnConnection(func(ctx context.Context, s *socketio.Socket) error {
			s.OnAny(func(ev *socketio.Event) {
				args := make([]json.RawMessage, ev.NumArgs())
				for i := range args {
					args[i] = slices.Clone(ev.Raw(i))
				}
				mu.Lock()
				defer mu.Unlock()
				anyIn = append(anyIn, ev.Name()+" "+string(mustJSON(args)))
			})
			s.OnAnyOutgoing(func(event string, args []any) {
				mu.Lock()
				defer mu.Unlock()
				anyOut = append(anyOut, event+" "+string(mustJSON(args)))
			})
			return s.Emit("hello", "a", 1)
		})
		ts.srv.On("fin", func(ctx context.Context, ev *socketio.Event) error {
			if err := ev.Socket().Emit("out2", []int{1, 2}); err != nil {
				return err
			}
			if err := ts.srv.Emit("bcast", "to all"); err != nil {
				return err
			}
			return ev.Ack("done")
		})
	}})

	var obs struct {
		Fin json.RawMessage `json:"fin"`
	}
	res.decodeObs(t, &obs)
	assertJSON(t, `"done"`, obs.Fin, "client: ack of fin")
	mu.Lock()
	assert.Equal(t, []string{`e1 [1]`, `e2 ["x",{"y":true}]`, `fin []`}, anyIn, "server: Socket.OnAny (event and arguments)")
	assert.Equal(t, []string{`hello ["a",1]`, `out2 [[1,2]]`}, anyOut,
		"server: Socket.OnAnyOutgoing (the socket's own emits; not broadcasts nor acks, as in Node)")
	mu.Unlock()
	c := res.socket(t, "c0")
	assert.Equal(t, []string{`hello ["a",1]`, `out2 [[1,2]]`, `bcast ["to all"]`}, c.eventRecords(c.Events), "client: socket.onAny")
	assert.Equal(t, []string{`e1 [1]`, `e2 ["x",{"y":true}]`, `fin []`}, c.eventRecords(c.Outgoing), "client: socket.onAnyOutgoing")
	assertEndedByClient(t, res, ts)
}

func TestSocketIO_FetchSockets(t *testing.T) { runScenario(t) }

func testSocketIOFetchSockets(t *testing.T, m mode) {
	type fetched struct {
		ID    string   `json:"id"`
		Name  string   `json:"name"`
		Rooms []string `json:"rooms"`
	}
	var (
		mu        sync.Mutex
		serverGot []fetched
		fetchErr  error
	)
	res, ts := runSocketIO(t, m, sioScenario{name: "fetch_sockets", setup: func(ts *sioServer) {
		ts.srv.OnConnection(func(ctx context.Context, s *socketio.Socket) error {
			s.Join("members")
			return nil
		})
		ts.srv.On("fetch", func(ctx context.Context, ev *socketio.Event) error {
			ctx, cancel := context.WithTimeout(ctx, handlerWait)
			defer cancel()
			rs, err := ts.srv.FetchSockets(ctx)
			out := make([]fetched, 0, len(rs))
			for _, r := range rs {
				rooms := slices.Clone(r.Rooms)
				slices.Sort(rooms)
				out = append(out, fetched{ID: r.ID, Name: authName(string(r.Handshake.Auth)), Rooms: rooms})
			}
			slices.SortFunc(out, func(a, b fetched) int { return cmp.Compare(a.Name, b.Name) })
			mu.Lock()
			serverGot, fetchErr = out, err
			mu.Unlock()
			return ev.Ack(out)
		})
	}})

	var obs struct {
		IDs     []string  `json:"ids"`
		Fetched []fetched `json:"fetched"`
	}
	res.decodeObs(t, &obs)
	require.Len(t, obs.IDs, 3, "client: ids of its three sockets")
	var want []fetched
	for i, id := range obs.IDs {
		rooms := []string{id, "members"}
		slices.Sort(rooms)
		want = append(want, fetched{ID: id, Name: fmt.Sprintf("c%d", i), Rooms: rooms})
	}
	assert.Equal(t, want, obs.Fetched, "client: srv.FetchSockets as acked by the server (id, auth name, rooms), against the client's own ids")
	mu.Lock()
	assert.NoError(t, fetchErr, "server: FetchSockets")
	assert.Equal(t, want, serverGot, "server: FetchSockets")
	mu.Unlock()
	assertEndedByClient(t, res, ts)
}

func TestSocketIO_SocketsJoinLeave(t *testing.T) { runScenario(t) }

func testSocketIOSocketsJoinLeave(t *testing.T, m mode) {
	res, ts := runSocketIO(t, m, sioScenario{name: "sockets_join_leave", setup: func(ts *sioServer) {
		ts.srv.On("join_all", func(ctx context.Context, ev *socketio.Event) error {
			var c1 string
			if err := ev.Scan(&c1); err != nil {
				return err
			}
			srv := ts.srv
			for _, op := range []func() error{
				func() error { return srv.SocketsJoin("everyone") },
				func() error { return srv.To("everyone").Emit("joined") },
				func() error { return srv.In(c1).SocketsLeave("everyone") },
				func() error { return srv.To("everyone").Emit("after_partial_leave") },
				func() error { return srv.SocketsLeave("everyone") },
				func() error { return srv.To("everyone").Emit("after_leave") },
				func() error { return srv.Emit("done") },
			} {
				if err := op(); err != nil {
					return err
				}
			}
			return ev.Ack("ok")
		})
	}})

	var obs struct {
		Result json.RawMessage `json:"result"`
	}
	res.decodeObs(t, &obs)
	assertJSON(t, `"ok"`, obs.Result, "client: ack of join_all")
	for name, want := range map[string][]string{
		"c0": {"joined", "after_partial_leave", "done"},
		"c1": {"joined", "done"},
		"c2": {"joined", "after_partial_leave", "done"},
	} {
		assert.Equalf(t, want, res.socket(t, name).eventNames(),
			"client %s: SocketsJoin(everyone), emit, In(c1).SocketsLeave, emit, SocketsLeave, emit, then done", name)
	}
	assertEndedByClient(t, res, ts)
}

func TestSocketIO_DisconnectSockets(t *testing.T) { runScenario(t) }

func testSocketIODisconnectSockets(t *testing.T, m mode) {
	res, ts := runSocketIO(t, m, sioScenario{name: "disconnect_sockets", setup: func(ts *sioServer) {
		ts.srv.On("sync", func(ctx context.Context, ev *socketio.Event) error { return ev.Ack() })
		ts.srv.On("disconnect_all", func(ctx context.Context, ev *socketio.Event) error {
			return ts.srv.DisconnectSockets(false)
		})
	}})

	var obs struct {
		Active []bool `json:"active"`
	}
	res.decodeObs(t, &obs)
	assert.Equal(t, []bool{false, false, false}, obs.Active, "client: socket.active after the server disconnected them (no reconnection)")
	for i := range 3 {
		name := fmt.Sprintf("c%d", i)
		assertClientReasons(t, res.socket(t, name), name, clientReasonServerDisconnect)
		assertServerReason(t, ts.byName(t, "/", name), name, socketio.ReasonServerNamespaceDisconnect)
	}
}

func TestSocketIO_BroadcastWithAcks(t *testing.T) { runScenario(t) }

func testSocketIOBroadcastWithAcks(t *testing.T, m mode) {
	var (
		mu      sync.Mutex
		answers []string
		rollErr error
		rolled  bool
	)
	res, ts := runSocketIO(t, m, sioScenario{name: "broadcast_acks", setup: func(ts *sioServer) {
		ts.srv.On("start_roll_call", func(ctx context.Context, ev *socketio.Event) error {
			resps, err := ts.srv.Timeout(2*time.Second).EmitWithAck(ctx, "roll_call", "who?")
			var got []string
			for _, r := range resps {
				var id, q string
				if err := r.Scan(&id, &q); err != nil {
					return err
				}
				got = append(got, id+" "+q)
			}
			slices.Sort(got)
			mu.Lock()
			answers, rollErr, rolled = got, err, true
			mu.Unlock()
			return ev.Ack(got)
		})
	}})

	var obs struct {
		IDs       []string `json:"ids"`
		Responses []string `json:"responses"`
	}
	res.decodeObs(t, &obs)
	require.Len(t, obs.IDs, rollCallClients, "client: ids of its sockets")
	var want []string
	for _, id := range obs.IDs {
		want = append(want, id+" who?")
	}
	slices.Sort(want)
	assert.Equal(t, want, obs.Responses, "client: the answers the server collected (each client's id and the question)")
	mu.Lock()
	if assert.True(t, rolled, "server: EmitWithAck must return") {
		assert.NoError(t, rollErr, "server: Timeout(2s).EmitWithAck to five clients that all answer")
		assert.Equal(t, want, answers, "server: AckResponses")
	}
	mu.Unlock()
	assertEndedByClient(t, res, ts)
}

func TestSocketIO_ConnectTimeout(t *testing.T) { runScenario(t) }

func testSocketIOConnectTimeout(t *testing.T, m mode) {
	res, ts := runSocketIO(t, m, sioScenario{
		name:      "connect_timeout",
		opts:      func(o *socketio.Options) { o.ConnectTimeout = 200 * time.Millisecond },
		noUpgrade: []string{"idle"},
	})
	mgr := res.manager(t, "idle")
	if assert.Len(t, mgr.Engines, 1, "client: Engine.IO connections") && assert.NotNil(t, mgr.Engines[0].Close, "client: close event") {
		assert.Equal(t, clientReasonTransportClose, mgr.Engines[0].Close.Reason,
			"client: close reason when the server closes a connection that joined no namespace")
	}
	assert.Empty(t, ts.all(), "server: no socket")
}

// --- harness --------------------------------------------------------------

// sioScenario is one scenario: the script's scenario name and the server's
// part of it.
type sioScenario struct {
	name  string
	opts  func(*socketio.Options) // changes to the test server's options
	setup func(ts *sioServer)     // handlers; the main namespace is watched already
	// noUpgrade names the client's managers whose connection closes before
	// it could upgrade: their transports are not checked.
	noUpgrade []string
}

// runSocketIO starts a server for sc, runs the socket.io-client script for
// sc.name in mode m, waits until every socket the server saw has
// disconnected and every Engine.IO session has closed, and returns both
// sides' observations after the checks that every scenario shares: the
// script's verdict, no client or server errors, the transports of every
// connection on both sides, and that client and server agree on every
// socket (id, namespace, Engine.IO session). The server is shut down and
// checked for leaked goroutines when t ends.
func runSocketIO(t *testing.T, m mode, sc sioScenario) (*sioResult, *sioServer) {
	t.Helper()
	node := requireNode(t, socketIOPackages...)
	t.Cleanup(leakcheck.Check(t)) // registered first, so it runs after the server's shutdown
	ts := startSocketIO(t, sc.opts)
	if sc.setup != nil {
		sc.setup(ts)
	}

	transports, err := json.Marshal(m.transports)
	require.NoError(t, err)
	var res sioResult
	run := runScript(t, node, socketIOScript, &res,
		"--url="+ts.url,
		"--transports="+string(transports),
		"--scenario="+sc.name,
		"--path="+ts.srv.Path(),
	)

	assert.Truef(t, res.OK, "client script failed (exit code %d) at step %q: %s", run.exitCode, res.Step, res.Error)
	assert.Equal(t, 0, run.exitCode, "client script exit code")
	for _, mgr := range res.Managers {
		assert.Emptyf(t, mgr.Errors, "client: Manager %s \"error\" events", mgr.Name)
	}
	assert.False(t, res.Lingered,
		"node stayed alive %v after the scenario ended: the server left a polling request or a connection open (handles are in the script's stderr)",
		scriptLinger)

	for _, rec := range ts.all() {
		select {
		case <-rec.disconnected:
		case <-time.After(closeWait):
			t.Fatalf("server: socket %s (%s, %s) not disconnected within %v after the client finished", rec.id, rec.nsp, rec.name, closeWait)
		}
	}
	assert.Eventually(t, func() bool { return ts.srv.Engine().ClientsCount() == 0 }, closeWait, 10*time.Millisecond,
		"server: Engine().ClientsCount() must drop to 0 once the client closed every connection")
	ts.mu.Lock()
	assert.Empty(t, ts.errs, "server: errors from handlers (Options.OnError)")
	ts.mu.Unlock()

	checkTransports(t, m, &res, ts, sc.noUpgrade)
	checkIdentities(t, &res, ts)
	return &res, ts
}

// checkTransports checks every connection's transports on the client, and
// every socket's on the server.
func checkTransports(t *testing.T, m mode, res *sioResult, ts *sioServer, noUpgrade []string) {
	t.Helper()
	final := m.initial
	if m.upgrade {
		final = engineio.TransportWebSocket
	}
	for _, mgr := range res.Managers {
		for i, e := range mgr.Engines {
			where := fmt.Sprintf("client: Manager %s, connection %d (%s)", mgr.Name, i, e.ID)
			assert.Equal(t, m.initial, e.OpenTransport, where+": transport at \"open\"")
			if slices.Contains(noUpgrade, mgr.Name) {
				// Closed early, maybe during the upgrade: the client then
				// reports upgradeError "probe error: socket closed".
				continue
			}
			assert.Empty(t, e.UpgradeErrors, where+": \"upgradeError\" events")
			if m.upgrade {
				assert.Equal(t, []string{engineio.TransportWebSocket}, e.Upgrades, where+": \"upgrade\" events")
			} else {
				assert.Empty(t, e.Upgrades, where+": \"upgrade\" events")
			}
			assert.Equal(t, final, e.FinalTransport, where+": transport when the connection closed")
		}
	}
	for _, rec := range ts.all() {
		rec.mu.Lock()
		where := fmt.Sprintf("server: socket %s of %s in %s", rec.id, rec.name, rec.nsp)
		if !m.upgrade { // with upgrades, the CONNECT may be handled on either side of the upgrade
			assert.Equal(t, m.initial, rec.connTransport, where+": Conn().Transport() in OnConnection")
		}
		assert.Equal(t, final, rec.closeTransport, where+": Conn().Transport() in OnDisconnect")
		rec.mu.Unlock()
	}
}

// checkIdentities checks that client and server saw the same sockets: each
// "connect" on the client is one OnConnection on the server, with the same
// id, namespace and Engine.IO session id.
func checkIdentities(t *testing.T, res *sioResult, ts *sioServer) {
	t.Helper()
	type ident struct{ nsp, name, sid string }
	client := map[string]ident{}
	for _, s := range res.Sockets {
		for _, c := range s.Connections {
			client[c.ID] = ident{s.Nsp, s.Name, c.EngineID}
		}
	}
	server := map[string]ident{}
	for _, rec := range ts.all() {
		server[rec.id] = ident{rec.nsp, rec.name, rec.sid}
	}
	assert.Equal(t, client, server,
		"sockets by id: namespace, auth name and Engine.IO session on the client (\"connect\" events) and on the server (OnConnection)")
}

// sioServer is a socketio.Server served over HTTP on 127.0.0.1, recording
// every socket of the namespaces it watches.
type sioServer struct {
	srv *socketio.Server
	url string

	mu      sync.Mutex
	sockets []*sockRecord // in OnConnection order
	errs    []string      // Options.OnError
}

// sockRecord is what the server observed of one socket.
type sockRecord struct {
	s            *socketio.Socket
	id, nsp, sid string
	name         string          // auth.name
	auth         json.RawMessage // Handshake().Auth
	disconnected chan struct{}   // closed after OnDisconnect

	mu             sync.Mutex
	connTransport  string // Conn().Transport() in OnConnection
	closeTransport string // Conn().Transport() in OnDisconnect
	reason         socketio.Reason
}

// startSocketIO starts a Socket.IO server with the conformance options
// (short ping interval, generous ping timeout, debug logs on the test's
// output) changed by opts, watching the main namespace. It is shut down,
// and its goroutines awaited, when t ends.
func startSocketIO(t *testing.T, opts func(*socketio.Options)) *sioServer {
	t.Helper()
	ts := &sioServer{}
	o := socketio.Options{
		Engine: engineio.Options{PingInterval: pingInterval, PingTimeout: pingTimeout},
		Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})),
		OnError: func(s *socketio.Socket, err error) {
			id := "<none>"
			if s != nil {
				id = s.ID()
			}
			ts.mu.Lock()
			defer ts.mu.Unlock()
			ts.errs = append(ts.errs, fmt.Sprintf("socket %s: %v", id, err))
		},
	}
	if opts != nil {
		opts(&o)
	}
	srv, err := socketio.New(&o)
	require.NoError(t, err)
	ts.srv = srv
	ts.watch(srv)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ts.url = "http://" + ln.Addr().String()
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()

	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		assert.NoError(t, srv.Shutdown(ctx), "socketio.Server.Shutdown")
		assert.NoError(t, hs.Shutdown(ctx), "http.Server.Shutdown")
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("http.Server.Serve: %v", err)
		}
	})
	return ts
}

// watchable is a namespace, a parent namespace or the server (its main
// namespace).
type watchable interface {
	OnConnection(fn func(ctx context.Context, s *socketio.Socket) error)
	OnDisconnect(fn func(s *socketio.Socket, reason socketio.Reason))
}

// watch records every socket of ns. Call it before registering the
// scenario's own connection handlers on ns.
func (ts *sioServer) watch(ns watchable) {
	ns.OnConnection(func(ctx context.Context, s *socketio.Socket) error {
		auth := json.RawMessage(slices.Clone(s.Handshake().Auth))
		rec := &sockRecord{
			s:             s,
			id:            s.ID(),
			nsp:           s.Namespace().Name(),
			sid:           s.Conn().ID(),
			name:          authName(string(auth)),
			auth:          auth,
			connTransport: s.Conn().Transport(),
			disconnected:  make(chan struct{}),
		}
		ts.mu.Lock()
		ts.sockets = append(ts.sockets, rec)
		ts.mu.Unlock()
		return nil
	})
	ns.OnDisconnect(func(s *socketio.Socket, reason socketio.Reason) {
		rec := ts.record(s)
		if rec == nil {
			ts.mu.Lock()
			ts.errs = append(ts.errs, fmt.Sprintf("OnDisconnect(%q) for socket %s that OnConnection never saw", reason, s.ID()))
			ts.mu.Unlock()
			return
		}
		rec.mu.Lock()
		defer rec.mu.Unlock()
		if rec.reason != "" {
			ts.mu.Lock()
			ts.errs = append(ts.errs, fmt.Sprintf("OnDisconnect called twice for %s: %q after %q", s.ID(), reason, rec.reason))
			ts.mu.Unlock()
			return
		}
		rec.reason, rec.closeTransport = reason, s.Conn().Transport()
		close(rec.disconnected)
	})
}

func (ts *sioServer) record(s *socketio.Socket) *sockRecord {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for _, r := range ts.sockets {
		if r.s == s {
			return r
		}
	}
	return nil
}

func (ts *sioServer) all() []*sockRecord {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return slices.Clone(ts.sockets)
}

func (ts *sioServer) inNamespace(nsp string) []*sockRecord {
	var out []*sockRecord
	for _, r := range ts.all() {
		if r.nsp == nsp {
			out = append(out, r)
		}
	}
	return out
}

// byName returns the one socket of namespace nsp whose auth name is name.
func (ts *sioServer) byName(t *testing.T, nsp, name string) *sockRecord {
	t.Helper()
	var found []*sockRecord
	for _, r := range ts.inNamespace(nsp) {
		if r.name == name {
			found = append(found, r)
		}
	}
	require.Lenf(t, found, 1, "server: want one socket %q in %s (OnConnection calls)", name, nsp)
	return found[0]
}

// sioResult is the JSON line printed by scripts/socketio_client.cjs.
type sioResult struct {
	OK       bool            `json:"ok"`
	Error    string          `json:"error"`
	Step     string          `json:"step"`
	Managers []sioManager    `json:"managers"`
	Sockets  []sioSocket     `json:"sockets"`
	Obs      json.RawMessage `json:"obs"`
	Lingered bool            `json:"lingered"`
}

type sioManager struct {
	Name    string `json:"name"`
	Engines []struct {
		ID             string      `json:"id"`
		OpenTransport  string      `json:"openTransport"`
		Upgrades       []string    `json:"upgrades"`
		UpgradeErrors  []string    `json:"upgradeErrors"`
		FinalTransport string      `json:"finalTransport"`
		Close          *closeEvent `json:"close"`
	} `json:"engines"`
	Reconnects []int    `json:"reconnects"`
	Errors     []string `json:"errors"`
}

type closeEvent struct {
	Reason      string `json:"reason"`
	Description string `json:"description"`
}

type sioSocket struct {
	Name        string `json:"name"`
	Nsp         string `json:"nsp"`
	Manager     string `json:"manager"`
	Connections []struct {
		ID       string `json:"id"`
		EngineID string `json:"engineId"`
	} `json:"connections"`
	Disconnects   []closeEvent      `json:"disconnects"`
	ConnectErrors []json.RawMessage `json:"connectErrors"`
	Events        []sioEvent        `json:"events"`   // onAny
	Outgoing      []sioEvent        `json:"outgoing"` // onAnyOutgoing
	Timeline      []string          `json:"timeline"` // connect, event and disconnect, in order
}

type sioEvent struct {
	Event string          `json:"event"`
	Args  json.RawMessage `json:"args"`
}

func (r *sioResult) decodeObs(t *testing.T, dst any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.Obs, dst), "client: obs")
}

func (r *sioResult) socket(t *testing.T, name string) *sioSocket {
	t.Helper()
	for i := range r.Sockets {
		if r.Sockets[i].Name == name {
			return &r.Sockets[i]
		}
	}
	require.Failf(t, "client result lacks a socket", "no socket %q in the client's result", name)
	return nil
}

func (r *sioResult) manager(t *testing.T, name string) *sioManager {
	t.Helper()
	for i := range r.Managers {
		if r.Managers[i].Name == name {
			return &r.Managers[i]
		}
	}
	require.Failf(t, "client result lacks a manager", "no manager %q in the client's result", name)
	return nil
}

func (s *sioSocket) eventNames() []string {
	names := []string{}
	for _, e := range s.Events {
		names = append(names, e.Event)
	}
	return names
}

// eventRecords renders events as "name <compact JSON args>".
func (s *sioSocket) eventRecords(evs []sioEvent) []string {
	out := []string{}
	for _, e := range evs {
		out = append(out, e.Event+" "+string(compactJSON(e.Args)))
	}
	return out
}

// event returns the only event name the socket received, failing t if
// there is not exactly one.
func (s *sioSocket) event(t *testing.T, name string) *sioEvent {
	t.Helper()
	var found []*sioEvent
	for i := range s.Events {
		if s.Events[i].Event == name {
			found = append(found, &s.Events[i])
		}
	}
	if !assert.Lenf(t, found, 1, "client %s: %q events received (all: %v)", s.Name, name, s.eventNames()) {
		return nil
	}
	return found[0]
}

// reasons returns the reasons of the socket's "disconnect" events.
func (s *sioSocket) reasons() []string {
	var out []string
	for _, d := range s.Disconnects {
		out = append(out, d.Reason)
	}
	return out
}

// --- assertions -------------------------------------------------------------

// assertEndedByClient checks the usual end of a scenario: the client
// disconnected every socket itself, once.
func assertEndedByClient(t *testing.T, res *sioResult, ts *sioServer) {
	t.Helper()
	for _, s := range res.Sockets {
		if len(s.Connections) == 0 {
			continue // refused
		}
		assertClientReasons(t, &s, s.Name, clientReasonClientDisconnect)
	}
	for _, rec := range ts.all() {
		assertServerReason(t, rec, rec.name, socketio.ReasonClientNamespaceDisconnect)
	}
}

func assertClientReasons(t *testing.T, s *sioSocket, what string, want ...string) {
	t.Helper()
	assert.Equalf(t, want, s.reasons(), "client %s: \"disconnect\" reasons", what)
}

func assertServerReason(t *testing.T, rec *sockRecord, what string, want socketio.Reason) {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	assert.Equalf(t, want, rec.reason, "server %s (socket %s in %s): OnDisconnect reason", what, rec.id, rec.nsp)
}

// assertArgs checks the arguments of the only event name s received.
func assertArgs(t *testing.T, s *sioSocket, name, want, msg string) {
	t.Helper()
	if ev := s.event(t, name); ev != nil {
		assertJSON(t, want, ev.Args, msg)
	}
}

func assertConnectErrors(t *testing.T, s *sioSocket, want string) {
	t.Helper()
	assertJSON(t, want, mustJSON(s.ConnectErrors), fmt.Sprintf("client %s: connect_error events (err.message, err.data)", s.Name))
}

// assertJSON is assert.JSONEq that reports a missing value as such.
func assertJSON(t *testing.T, want string, got json.RawMessage, msg string) {
	t.Helper()
	if len(got) == 0 {
		assert.Failf(t, "missing value", "%s: want %s, got nothing", msg, want)
		return
	}
	assert.JSONEq(t, want, string(got), msg)
}

// --- values -------------------------------------------------------------------

// scanAll decodes every argument of ev into an any ([]byte for binary
// attachments).
func scanAll(ev *socketio.Event) ([]any, error) {
	vals := make([]any, ev.NumArgs())
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	return vals, ev.Scan(ptrs...)
}

// describeBinary replaces every []byte in v with the record the script
// makes of a binary value (see encode in scripts/socketio_client.cjs).
func describeBinary(v any) any {
	switch v := v.(type) {
	case []byte:
		return binRecord(v)
	case [][]byte:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = binRecord(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = describeBinary(x)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = describeBinary(x)
		}
		return out
	}
	return v
}

func binRecord(b []byte) map[string]any {
	sum := sha256.Sum256(b)
	r := map[string]any{"length": len(b), "sha256": hex.EncodeToString(sum[:])}
	if len(b) <= smallMessage {
		r["hex"] = hex.EncodeToString(b)
	}
	return map[string]any{"$binary": r}
}

func binJSON(b []byte) string { return string(mustJSON(binRecord(b))) }

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func compactJSON(b json.RawMessage) json.RawMessage {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return b
	}
	return mustJSON(v)
}

// authName returns the "name" member of an auth payload.
func authName(auth string) string {
	var a struct {
		Name string `json:"name"`
	}
	_ = json.Unmarshal([]byte(auth), &a)
	return a.Name
}

// otherRooms returns rooms without the socket's own, sorted.
func otherRooms(rooms []string, id string) []string {
	out := []string{}
	for _, r := range rooms {
		if r != id {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return out
}
