// Command chat serves a small multi-room chat: a Socket.IO server and a
// web page that talks to it with the official socket.io-client, over
// long-polling upgraded to WebSocket. Messages, typing indicators and
// images (sent as binary attachments) go to everyone in the same room.
// A client that loses its connection and comes back within 2 minutes
// keeps its socket id and room and gets the messages it missed
// (connection state recovery).
//
//	go run ./examples/chat -addr 127.0.0.1:3000
//
// The page loads the browser build of socket.io-client from
// conformance/node_modules (installed by `make test` or
// `npm ci --prefix conformance`), and from a public CDN when that is
// missing.
package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gosio/gosio/examples/chat/chatapp"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:3000", "listen address")
	clientDir := flag.String("client-dir", "conformance/node_modules/socket.io-client/dist", "directory holding socket.io.min.js")
	flag.Parse()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(*addr, *clientDir, logger); err != nil {
		logger.Error("chat: exiting", "err", err)
		os.Exit(1)
	}
}

func run(addr, clientDir string, logger *slog.Logger) error {
	srv, handler, err := chatapp.NewHandler(&chatapp.Options{ClientDir: clientDir, Logger: logger})
	if err != nil {
		return err
	}
	hs := &http.Server{Addr: addr, Handler: handler, ReadHeaderTimeout: 10 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- hs.ListenAndServe() }()
	logger.Info("chat: listening", "url", "http://"+addr+"/")
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("chat: shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		// Clients that did not take their leave in time (a polling client
		// gone without a word) have been cut: worth a warning, not a
		// failed exit.
		logger.Warn("chat: clients cut at the shutdown deadline", "err", err)
	}
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("chat: stopped")
	return nil
}
