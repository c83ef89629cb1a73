// Package socketio is a Socket.IO v5 server: namespaces, rooms, events
// with acknowledgements, binary attachments, middleware and broadcasting,
// with the API of the Node.js socket.io 4.8 server in idiomatic Go, so
// that every official client (JavaScript, Swift, Java, …) works unchanged.
// It runs on the engineio package and scales out with a cluster adapter
// (adapter/nats).
//
//	srv, err := socketio.New(nil)
//	if err != nil { … }
//	srv.OnConnection(func(ctx context.Context, s *socketio.Socket) error {
//		s.Join("lobby")
//		return nil
//	})
//	srv.On("chat", func(ctx context.Context, ev *socketio.Event) error {
//		var msg string
//		if err := ev.Scan(&msg); err != nil {
//			return err
//		}
//		return ev.Socket().To("lobby").Emit("chat", msg)
//	})
//	mux.Handle("/socket.io/", srv)
//
// # Handlers
//
// An event handler is an [EventHandler] (ServeEvent(ctx, *Event) error),
// registered for all sockets of a namespace with [Namespace.On] or for one
// socket with [Socket.On]. [Event.Scan] decodes the positional arguments
// straight into Go values ([]byte receives binary attachments, at any
// depth); [Event.Ack] answers, once. [Handle] and [HandleAck] adapt typed
// functions for the common one-argument case.
//
// # Concurrency
//
// Everything is safe for concurrent use. The events of one socket are
// handled one at a time, in arrival order, on a goroutine that is not the
// connection's reader (started when an event arrives, gone when the
// socket is idle); a slow handler delays only its own socket. Emitting
// never blocks: packets are queued per connection, bounded in bytes, and a
// client that does not read is disconnected ("slow consumer"). A broadcast
// encodes its packet once, whatever the number of recipients.
//
// # Limits and defaults
//
// Zero options mean Node's defaults: path /socket.io/, ConnectTimeout 45s,
// 10 binary attachments per packet, the Engine.IO defaults (see the
// engineio package), the in-memory adapter, connection state recovery off
// (when on: sessions kept 2 minutes; the memory adapter keeps the
// broadcast packets of that window, at most memory.MaxStoredPackets).
//
// # Errors
//
// Handlers' errors and recovered panics go to Options.OnError. Middleware
// refuses a connection by returning an error (a [*ConnectError] carries
// data to the client). Clients that break the protocol are disconnected
// with "parse error" and never affect other clients. Operations waiting on
// acks or other servers return what arrived together with a
// [*PartialError] when their context ends.
//
// # Compatibility
//
//	Node                               Go
//	io.on("connection", fn)            srv.OnConnection(fn)
//	io.use(fn) / nsp.use(fn)           srv.Use(fn) / ns.Use(fn)
//	socket.on("ev", fn)                s.On("ev", fn) or ns.On("ev", fn)
//	socket.emit("ev", a, b)            s.Emit("ev", a, b)
//	socket.timeout(t).emitWithAck(…)   s.Timeout(t).EmitWithAck(ctx, …)
//	socket.use(fn)                     s.Use(mw)
//	socket.onAny(fn) / offAny(fn)      remove := s.OnAny(fn); remove()
//	io.to(r).except(x).emit(…)         srv.To(r).Except(x).Emit(…)
//	io.of(/^\/dyn-\d+$/)               srv.OfRegexp(regexp.MustCompile(…))
//	io.fetchSockets()                  srv.FetchSockets(ctx)
//	io.serverSideEmit(…)               srv.ServerSideEmit(…)
//	io.on("ev") for server events      srv.OnServerEvent("ev", fn)
//	socket.on("disconnect", fn)        s.OnDisconnect(fn)
//	connectionStateRecovery            Options.ConnectionStateRecovery
//	socket.recovered                   s.Recovered()
//
// Disconnect reasons ([Reason]) are Node's strings. Differences: events
// from other servers have their own handlers (OnServerEvent), so clients
// can never reach them; an empty Socket.IO frame is a protocol error (Node
// reads it as a CONNECT).
package socketio
