// Command testserver serves gosio in exactly the configuration that the
// official Socket.IO protocol test suites expect of a server under test
// (the engine.io-protocol v4 and socket.io-protocol v5 test-suite
// directories), so that they can be run against gosio without writing Go:
//
//	go run ./conformance/cmd/testserver -addr 127.0.0.1:3000
//
// One listener serves two servers:
//
//   - /engine.io/: a bare Engine.IO v4 server (no Socket.IO layer) that
//     echoes every message, text and binary, to its sender;
//   - /socket.io/: a Socket.IO v5 server. On namespace "/" a new socket
//     receives an "auth" event carrying its CONNECT payload ({} when there
//     is none); a "message" event is answered with a "message-back" event
//     carrying exactly the received arguments (binary attachments
//     included, JSON as received, key order kept); a "message-with-ack"
//     event is acknowledged with exactly its arguments. Namespace
//     "/custom" only sends "auth". Any other namespace is refused with
//     CONNECT_ERROR {"message":"Invalid namespace"}.
//
// Both use pingInterval 300 ms, pingTimeout 200 ms, maxPayload 1 000 000
// bytes and CORS for any origin (Access-Control-Allow-Origin: *); the
// Socket.IO server closes connections that join no namespace within
// 1 000 ms (connectTimeout) and has connection state recovery off.
//
// The -addr flag takes a host:port; with port 0 the system picks a free
// port. Either way the bound address is logged at start-up, as
// msg="testserver: listening" addr=HOST:PORT, for scripts to read. Logs go
// to standard error with log/slog. SIGINT or SIGTERM shuts the server
// down (open sessions are closed, with a 5 s deadline) and the command
// exits with status 0.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// shutdownTimeout bounds the graceful shutdown; what is left after it is
// cut.
const shutdownTimeout = 5 * time.Second

func main() {
	addr := flag.String("addr", "127.0.0.1:3000", "listen address, host:port (port 0: any free port; the bound address is logged)")
	flag.Parse()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, logger); err != nil {
		logger.Error("testserver: exiting", "err", err)
		stop()
		os.Exit(1)
	}
}

// run serves on addr until ctx is done, then shuts down.
func run(ctx context.Context, addr string, logger *slog.Logger) error {
	srv, err := newServers(logger)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		_ = srv.Close()
		return fmt.Errorf("testserver: listen: %w", err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelDebug)}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	logger.Info("testserver: listening", "addr", ln.Addr().String(),
		"engineio", "http://"+ln.Addr().String()+enginePath, "socketio", "http://"+ln.Addr().String()+socketPath)

	select {
	case err := <-errc:
		_ = srv.Close()
		return fmt.Errorf("testserver: serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("testserver: shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	// Sessions first: http.Server.Shutdown neither closes hijacked
	// WebSockets nor answers pending long-polling requests.
	if err := srv.Shutdown(sctx); err != nil {
		logger.Warn("testserver: sessions cut at the shutdown deadline", "err", err)
	}
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("testserver: http shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("testserver: serve: %w", err)
	}
	logger.Info("testserver: stopped")
	return nil
}
