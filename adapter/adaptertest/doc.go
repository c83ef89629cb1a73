// Package adaptertest is the behavioural suite every [adapter.Adapter]
// passes, in the manner of testing/slogtest: an adapter's package runs it
// from one test function,
//
//	func TestAdapter(t *testing.T) {
//		adaptertest.Run(t, adaptertest.Harness{
//			MaxServers: 1,
//			NewCluster: func(*testing.T, int) []adapter.Factory {
//				return []adapter.Factory{memory.New}
//			},
//		})
//	}
//
// and each case is a subtest, so that -run selects them
// ("TestAdapter/servers=1/Broadcast/Except").
//
// # What is checked
//
//   - Rooms: AddAll, Del, DelAll, SocketRooms, Rooms and Sockets agree;
//     rooms are deleted when their last socket leaves; results are copies;
//     each server lists its own sockets only.
//   - Broadcast to everyone, to one room, to several rooms (each socket
//     once), with Except rooms and a socket's own id room, with the Local
//     flag (never crossing to another server), to nobody. Every recipient
//     of a server receives the same *[adapter.Encoded] (encode once), whose
//     messages are those [adapter.Encode] makes (NoCompress marks them
//     uncompressed); Volatile and NoCompress reach Deliver. Recipients may
//     call back into the adapter from Deliver.
//   - BroadcastWithAck: onCount is called once per server and the counts
//     add up to the number of targets; every target registers the ack
//     (ExpectAck, with the packet's id) before the packet is delivered to
//     it; acks reach onAck wherever the socket is; registrations are
//     dropped when the caller's context is done (at the latest after
//     Flags.Timeout on the other servers).
//   - FetchSockets returns a full snapshot of exactly the matched sockets
//     (Local set only for this server's); AddSockets, DelSockets and
//     DisconnectSockets act on exactly the matched sockets, through the
//     socket's Join, Leave and Disconnect.
//   - ServerSideEmit reaches every other server's namespace once, never
//     the sender's; ServerSideEmitWithAck returns one answer per other
//     server, at once when there is none, and what arrived with a
//     *[adapter.PartialError] wrapping the context's error when a server
//     stays silent; ServerCount counts every server.
//   - Close: afterwards no operation panics or touches a socket, errors
//     are nil or [adapter.ErrClosed], Close is idempotent, closing under
//     load is safe; in a cluster the other servers stop counting and
//     waiting for the closed one.
//   - Concurrency (RELIABILITY.md row 22): 50 goroutines for
//     [Harness.StressDuration] (and at most 2000 operations each) mix every
//     operation on every server while sockets call back into the adapter
//     from Deliver and Join; nothing deadlocks or races (run with -race),
//     each broadcast to an untouched room reaches each of its sockets
//     exactly once, and the bookkeeping is consistent afterwards.
//
// # Single-process and cluster adapters
//
// [Harness.MaxServers] says how many servers the adapter can serve one
// namespace with. Every case runs on one server ("servers=1"); when
// MaxServers is 2 or more, every case runs again on a cluster of
// min(MaxServers, 3) servers ("servers=N"), where sockets are spread over
// all servers and the cluster-only cases (partial answers) run too. A
// single-process adapter, such as adapter/memory, sets MaxServers to 1:
// the suite then logs that no cluster run was made — the adapter makes no
// cluster claim, so nothing is skipped.
//
// Remote effects are asynchronous: the suite waits for them, up to
// [Harness.Timeout]. To check that something did not happen it relies on
// order: a broadcast (or request) from one server reaches a given socket
// after the ones that server sent before it, as with the Socket.IO
// cluster adapters, which process each peer's messages in order.
//
// # Fakes
//
// The suite drives adapters with the fakes [Socket] and [Namespace], which
// record what the adapter does to them. They are exported for tests an
// adapter needs beyond the suite.
package adaptertest
