// Command echo serves an Engine.IO echo server and a small web page that
// talks to it with the official engine.io-client, over long-polling
// upgraded to WebSocket.
//
//	go run ./examples/echo -addr 127.0.0.1:3000
//
// The page loads the browser build of engine.io-client from
// conformance/node_modules (installed by `make conformance-deps` or
// `npm ci --prefix conformance`), and from a public CDN when that is
// missing.
package main

import (
	"context"
	"embed"
	"errors"
	"flag"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/gosio/gosio/engineio"
)

//go:embed index.html
var page embed.FS

func main() {
	addr := flag.String("addr", "127.0.0.1:3000", "listen address")
	clientDir := flag.String("client-dir", "conformance/node_modules/engine.io-client/dist", "directory holding engine.io.min.js")
	flag.Parse()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(*addr, *clientDir, logger); err != nil {
		logger.Error("echo: exiting", "err", err)
		os.Exit(1)
	}
}

func run(addr, clientDir string, logger *slog.Logger) error {
	eio, handler, err := newHandler(clientDir, logger)
	if err != nil {
		return err
	}
	hs := &http.Server{Addr: addr, Handler: handler, ReadHeaderTimeout: 10 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- hs.ListenAndServe() }()
	logger.Info("echo: listening", "url", "http://"+addr+"/")
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("echo: shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = errors.Join(eio.Shutdown(sctx), hs.Shutdown(sctx))
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// newHandler returns the echo server and the HTTP handler serving it, the
// page and the browser client.
func newHandler(clientDir string, logger *slog.Logger) (*engineio.Server, http.Handler, error) {
	eio, err := engineio.New(&engineio.Options{Logger: logger})
	if err != nil {
		return nil, nil, err
	}
	eio.OnConnection(func(s *engineio.Session) {
		logger.Info("connected", "sid", s.ID(), "transport", s.Transport())
		s.OnMessage(func(data []byte, binary bool) {
			if binary {
				_ = s.SendBinary(data)
				return
			}
			_ = s.Send(data)
		})
		s.OnUpgrade(func(t string) { logger.Info("upgraded", "sid", s.ID(), "transport", t) })
		s.OnClose(func(reason engineio.Reason, _ error) {
			logger.Info("disconnected", "sid", s.ID(), "reason", string(reason))
		})
	})

	mux := http.NewServeMux()
	mux.Handle(eio.Path(), eio)
	mux.Handle("GET /{$}", http.FileServerFS(page))
	mux.HandleFunc("GET /engine.io.min.js", func(w http.ResponseWriter, r *http.Request) {
		file := filepath.Join(clientDir, "engine.io.min.js")
		if _, err := os.Stat(file); err != nil {
			http.Redirect(w, r, cdnClient, http.StatusFound)
			return
		}
		http.ServeFile(w, r, file)
	})
	return eio, mux, nil
}

// cdnClient is the fallback for the browser client, the version pinned in
// conformance/package-lock.json.
const cdnClient = "https://cdn.jsdelivr.net/npm/engine.io-client@6.6.8/dist/engine.io.min.js"
