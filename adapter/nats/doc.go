// Package natsadapter spreads Socket.IO namespaces over many servers
// through NATS: broadcasts, rooms, fetchSockets, socketsJoin/Leave,
// disconnectSockets and serverSideEmit (with acks) reach every server of
// the cluster, as with Node's cluster and Redis adapters.
//
//	nc, err := natsadapter.Connect("nats://127.0.0.1:4222", logger)
//	srv, err := socketio.New(&socketio.Options{Adapter: natsadapter.New(nc)})
//
// For development and tests, adapter/nats/natsembed runs a NATS server
// inside the process.
//
// # Protocol
//
// The messages are those of socket.io-adapter's ClusterAdapterWithHeartbeat
// (the protocol of Node's cluster adapters), encoded in MessagePack with
// binary values as MessagePack bin: an envelope {uid, nsp, type, data} with
// the message types 1 (INITIAL_HEARTBEAT) to 13 (ADAPTER_CLOSE). The field
// names and payload of each type are documented in the internal wire
// package, and summed up here:
//
//	1 INITIAL_HEARTBEAT, 2 HEARTBEAT, 13 ADAPTER_CLOSE   no data
//	3 BROADCAST            {opts, packet, requestId?}
//	4 SOCKETS_JOIN, 5 SOCKETS_LEAVE  {opts, rooms}
//	6 DISCONNECT_SOCKETS   {opts, close?}
//	7 FETCH_SOCKETS        {opts, requestId}
//	8 FETCH_SOCKETS_RESPONSE    {requestId, sockets: [{id, handshake, rooms, data}]}
//	9 SERVER_SIDE_EMIT          {requestId?, packet: [event, args...]}
//	10 SERVER_SIDE_EMIT_RESPONSE {requestId, packet}
//	11 BROADCAST_CLIENT_COUNT   {requestId, clientCount}
//	12 BROADCAST_ACK            {requestId, packet}
//
// opts is {rooms, except, flags: {volatile?, compress?, local?, timeout?}};
// a broadcast packet is {type: 2, data: [event, args...], nsp, id?}. A
// remote ack (10 and 12) carries the first argument of the ack in packet,
// which is all Node reads, and, when there are several, all of them in
// args (a gosio extension that Node ignores).
//
// Each adapter (one per namespace per server) has a random uid, and uses
// two subjects, under a prefix (default "socketio", see
// [WithSubjectPrefix]) and the namespace's [SubjectToken]:
//
//	<prefix>.<namespace>         read by every server of the namespace:
//	                             types 1–7, 9 and 13
//	<prefix>.<namespace>.<uid>   read by that server only: the answers
//	                             to its requests, types 8, 10, 11, 12
//
// For instance "socketio.Lw" and "socketio.Lw.3f9c0a2e5b7d4c18" for the
// namespace "/". A server ignores its own messages (same uid), messages of
// another namespace, and anything that does not decode (logged at Debug).
//
// # Membership
//
// A starting adapter sends INITIAL_HEARTBEAT, which every peer answers
// with a HEARTBEAT; then each sends a HEARTBEAT whenever it has published
// nothing else for the heartbeat interval (default 5 s). A peer not heard
// of for the heartbeat timeout (default 10 s) is dropped, and one that
// sends ADAPTER_CLOSE (on Close) is dropped at once. ServerCount is 1 plus
// the live peers.
//
// Requests (FetchSockets, ServerSideEmitWithAck) expect one answer from
// each peer alive when they are sent, and return as soon as all have
// answered or left. When the context's deadline (or the options' timeout,
// or the request timeout when the context has none, see
// [WithRequestTimeout]) comes first, they return the answers that arrived
// together with an [*adapter.PartialError] whose Missing field lists the
// uids of the silent peers. With no peer they return at once.
//
// # Guarantees
//
// Core NATS delivers at most once, in order per publisher: commands from
// one server (a join, then a broadcast to the room) are applied in that
// order on each other server; there is no order between servers.
//
// Local delivery never depends on NATS. A broadcast first publishes, then
// delivers to this server's sockets; when the publish fails the sockets
// here still receive the packet and the error (wrapping [ErrNotConnected]
// or [ErrPayloadTooLarge]) reports that the other servers did not. The
// adapter fails fast: while NATS is unreachable nothing is buffered for
// later, and what the other servers would have received in that time is
// lost. nats.go reconnects by itself (see [Connect]); the subscriptions
// are restored with it, and the adapter then says hello again so that the
// peer lists converge at once.
//
// Each subscription holds at most the pending limits ([WithPendingLimits])
// of received but unhandled messages: beyond them NATS drops messages (a
// slow consumer), which is logged at Error, once when it starts and then at
// most every 30 s. The callbacks never wait on a client: deliveries are
// queued per socket.
//
// A message larger than the server's max_payload is not sent (the error
// says so); local delivery still happens. There is no chunking: keep
// broadcasts under max_payload (1 MB by default) or raise it.
//
// Connection state recovery works per server: a socket's session and the
// packets it missed are kept by the server it was connected to, which
// stores every broadcast it delivers, whichever server it came from. A
// client that reconnects to another server starts a new session, as with
// Node's cluster adapter. Load balancers with sticky sessions (required
// by HTTP long-polling anyway) send it back to the same server.
//
// Values cross servers as MessagePack, as Node's cluster adapter sends
// them: JSON objects keep their keys in order, integers travel as integers
// and binary attachments as MessagePack bin, so that JSON written as
// JSON.stringify writes it (and as socketio/parser.Marshal does) reaches
// the other servers' clients byte for byte.
package natsadapter
