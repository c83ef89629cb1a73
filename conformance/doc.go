// Package conformance tests gosio's servers against the official JavaScript
// clients, run by Node.js.
//
// The package has no API; everything is in its tests. Each test starts one of
// our servers on 127.0.0.1, runs a client script from scripts/ with node,
// and asserts on both sides: on the JSON line the script prints (what the
// client received, its close reason, whether it upgraded) and on what the
// server observed (messages, upgrades, the OnClose reason). Every scenario
// runs in three modes, like net/http's run(t, mode) helper:
//
//	polling    transports ["polling"]
//	websocket  transports ["websocket"]
//	upgrade    transports ["polling", "websocket"]: the client must upgrade
//
// # Engine.IO scenarios
//
// engineio_test.go runs engine.io-client against an engineio.Server: text
// and binary echo, large messages, server pushes, and closes from either
// side (scripts/engineio_client.cjs).
//
// # Socket.IO scenarios
//
// socketio_test.go runs socket.io-client against a socketio.Server
// (scripts/socketio_client.cjs). Each test gives the server its handlers;
// the script opens one or more Managers (one Engine.IO connection each,
// several sockets on one when it multiplexes namespaces), names every
// socket in its auth payload so that the server can tell them apart, and
// triggers the server's actions with events, waiting for their effects
// rather than for time to pass. Every scenario, in every mode:
//
//	Namespaces           "/" and "/custom" multiplexed on one connection
//	DynamicNamespaces    srv.OfRegexp children; "Invalid namespace" otherwise
//	AuthAndMiddleware    Handshake().Auth and Query; middleware refusing with
//	                     a *ConnectError (err.message, err.data) or an error
//	JSONTypes            every JSON type both ways, Go values to JS, and a
//	                     non-ASCII event name
//	Binary               Buffers at any depth, nine in one event, 1 MiB,
//	                     empty, both ways
//	Acks                 ev.Ack and s.EmitWithAck, JSON and binary, empty
//	AckTimeouts          socket.timeout().emitWithAck and s.Timeout() that
//	                     are never answered; a late ack is ignored
//	Broadcast            To, Except, several rooms, sender excluded, socket
//	                     id rooms, four clients
//	Volatile             a volatile emit reaches an idle client
//	DisconnectReasons    socket.disconnect(), Disconnect(false),
//	                     Disconnect(true): reasons on both sides
//	Reconnection         Conn().Close(): the client reconnects by itself
//	CatchAll             OnAny / OnAnyOutgoing and onAny / onAnyOutgoing
//	FetchSockets         ids, rooms and auth of srv.FetchSockets
//	SocketsJoinLeave     SocketsJoin, In(id).SocketsLeave, SocketsLeave
//	DisconnectSockets    DisconnectSockets(false) on every client
//	BroadcastWithAcks    Timeout(2s).EmitWithAck to five clients
//	ConnectTimeout       a connection that joins no namespace is closed
//
// # Cluster scenarios
//
// cluster_test.go runs socket.io-client sockets spread round-robin over
// three socketio.Servers joined by the NATS adapter (adapter/nats) over an
// embedded NATS server (scripts/cluster_client.cjs): what one server does
// must reach the clients of the others.
//
//	broadcast            a binary-laden broadcast reaches every client once
//	rooms                To/Except from a server holding no member
//	acks                 Timeout(5s).EmitWithAck answered on every server
//	fetch                FetchSockets (ids, rooms, data, auth) from each
//	remote_disconnect    RemoteSocket.Disconnect(true) of another server's
//	                     client ("io server disconnect")
//	server_side_emit     ServerSideEmitWithAck: the other servers answer
//	                     and emit to their own clients only
//
// Besides each scenario's own checks, every run checks that client and
// server agree on every socket (id, namespace, Engine.IO session), the
// transports on both sides (with upgrades: every connection upgrades and
// ends on WebSocket), the disconnect reasons, and that no handler failed.
//
// # Setup
//
// The clients, engine.io-client and socket.io-client, are npm packages
// pinned exactly in package.json and package-lock.json (socket.io-client
// runs on the same pinned engine.io-client; TestNodeClients_Pinned checks
// the pins). Install them once, and again whenever the lockfile
// changes:
//
//	npm ci --prefix conformance
//	go test -race ./conformance/...
//
// Node.js 20 or newer must be on PATH. When node or the packages are missing,
// or the installed versions differ from the lockfile, the tests fail with a
// message saying so; they never skip, so a CI run without Node cannot pass
// silently. node_modules is not committed.
//
// # Scripts
//
// scripts/*.cjs are plain CommonJS files, no build step. They take their
// parameters as --name=value arguments (or GOSIO_NAME environment
// variables), print diagnostics on stderr and exactly one JSON result line
// on stdout, exit non-zero on failure and stop themselves after a timeout.
// To debug one by hand, start a server and run for example
//
//	DEBUG='engine.io-client:*' node conformance/scripts/engineio_client.cjs \
//		--url=http://127.0.0.1:8080 --transports='["polling","websocket"]' --scenario=text_echo
//	DEBUG='socket.io-client:*' node conformance/scripts/socketio_client.cjs \
//		--url=http://127.0.0.1:8080 --transports='["websocket"]' --scenario=acks
//
// The tests print the script's stderr and the server's debug log when they
// fail. They leave no goroutines behind: TestMain runs leakcheck.Main and
// every scenario checks itself with leakcheck.Check (internal/leakcheck).
package conformance
