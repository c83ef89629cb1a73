package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/gosio/gosio/engineio"
	"github.com/gosio/gosio/socketio"
)

// The configuration the official test suites expect (their
// PING_INTERVAL, PING_TIMEOUT, maxPayload and connectTimeout).
const (
	pingInterval   = 300 * time.Millisecond
	pingTimeout    = 200 * time.Millisecond
	maxPayload     = 1_000_000
	connectTimeout = 1000 * time.Millisecond

	enginePath = "/engine.io/"
	socketPath = "/socket.io/"
)

// engineOptions returns the Engine.IO options shared by both servers.
func engineOptions(path string, logger *slog.Logger) engineio.Options {
	return engineio.Options{
		Path:              path,
		PingInterval:      pingInterval,
		PingTimeout:       pingTimeout,
		MaxHTTPBufferSize: maxPayload,
		CORS:              &engineio.CORS{AllowAnyOrigin: true}, // cors: {origin: "*"}
		Logger:            logger,
	}
}

// servers is what the command serves: the bare Engine.IO echo server and
// the Socket.IO server, on one mux. It is an http.Handler.
type servers struct {
	engine *engineio.Server
	sio    *socketio.Server
	mux    *http.ServeMux
}

// newServers builds both servers and their handlers.
func newServers(logger *slog.Logger) (*servers, error) {
	eo := engineOptions(enginePath, logger)
	engine, err := engineio.New(&eo)
	if err != nil {
		return nil, fmt.Errorf("testserver: engine.io server: %w", err)
	}
	engine.OnConnection(echo)

	sio, err := socketio.New(&socketio.Options{
		Engine:         engineOptions(socketPath, logger),
		ConnectTimeout: connectTimeout,
		// ConnectionStateRecovery stays nil: recovery off.
		Logger: logger,
	})
	if err != nil {
		_ = engine.Close()
		return nil, fmt.Errorf("testserver: socket.io server: %w", err)
	}
	registerHandlers(sio)

	mux := http.NewServeMux()
	mux.Handle(engine.Path(), engine)
	mux.Handle(sio.Path(), sio)
	return &servers{engine: engine, sio: sio, mux: mux}, nil
}

// ServeHTTP implements http.Handler.
func (s *servers) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Shutdown closes every session of both servers gracefully and waits for
// their goroutines, or cuts what is left when ctx is done.
func (s *servers) Shutdown(ctx context.Context) error {
	return errors.Join(s.sio.Shutdown(ctx), s.engine.Shutdown(ctx))
}

// Close closes both servers at once.
func (s *servers) Close() error {
	return errors.Join(s.sio.Close(), s.engine.Close())
}

// echo makes an Engine.IO session send every message back as it came,
// text as text and binary as binary (the engine.io-protocol suite's
// server: socket.on("data", data => socket.write(data))).
func echo(s *engineio.Session) {
	s.OnMessage(func(data []byte, binary bool) {
		// data belongs to the callback: it can be queued as it is. A
		// closed session drops it, like Node's write on a closed socket.
		if binary {
			_ = s.SendBinary(data)
		} else {
			_ = s.Send(data)
		}
	})
}

// registerHandlers sets up the namespaces of the socket.io-protocol
// suite's reference server:
//
//	io.on("connection", (socket) => {
//	  socket.emit("auth", socket.handshake.auth);
//	  socket.on("message", (...args) => socket.emit("message-back", ...args));
//	  socket.on("message-with-ack", (...args) => { const ack = args.pop(); ack(...args); });
//	});
//	io.of("/custom").on("connection", (socket) => socket.emit("auth", socket.handshake.auth));
//
// Other namespaces do not exist, so the server refuses them with
// CONNECT_ERROR {"message":"Invalid namespace"}.
func registerHandlers(sio *socketio.Server) {
	main := sio.Of("/")
	main.OnConnection(emitAuth)
	// ev.Args() are the arguments as received, binary included.
	main.On("message", func(_ context.Context, ev *socketio.Event) error {
		return ev.Socket().Emit("message-back", ev.Args()...)
	})
	main.On("message-with-ack", func(_ context.Context, ev *socketio.Event) error {
		if !ev.HasAck() {
			return nil // Node's handler would throw: nothing to call
		}
		return ev.Ack(ev.Args()...)
	})

	sio.Of("/custom").OnConnection(emitAuth)
}

// emitAuth sends the socket its CONNECT payload as received ({} when the
// CONNECT packet had none).
func emitAuth(_ context.Context, s *socketio.Socket) error {
	return s.Emit("auth", jsontext.Value(s.Handshake().Auth))
}
