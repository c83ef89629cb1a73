// Package chatapp is the chat of examples/chat as a reusable piece: the
// Socket.IO handlers (rooms, nicknames, member lists, messages, typing
// indicators, images sent as binary attachments) and the web page that
// talks to them with the official socket.io-client.
//
//	srv, h, err := chatapp.NewHandler(&chatapp.Options{Logger: logger})
//	if err != nil { … }
//	hs := &http.Server{Addr: "127.0.0.1:3000", Handler: h}
//	// … hs.ListenAndServe(); at exit srv.Shutdown(ctx), then hs.Shutdown(ctx)
//
// The chat keeps no state of its own: a member's nick and room live in its
// socket (SetData) and in the adapter's rooms, and member lists come from
// FetchSockets. With a cluster adapter (Options.Adapter, e.g. the NATS
// adapter of adapter/nats) several servers serve one chat: examples/cluster
// runs three.
//
// Connection state recovery is on: a client that lost its connection and
// comes back to the same server within 2 minutes keeps its socket id,
// nick and room and gets the messages it missed.
package chatapp

import (
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/engineio"
	"github.com/gosio/gosio/socketio"
)

//go:embed index.html
var page embed.FS

// ClientVersion is the socket.io-client version pinned in
// conformance/package.json (examples/chat's test checks they agree).
const ClientVersion = "4.8.4"

// CDNBase is the fallback location of the browser client and its source
// map; CDNClient is the client itself.
const (
	CDNBase   = "https://cdn.jsdelivr.net/npm/socket.io-client@" + ClientVersion + "/dist/"
	CDNClient = CDNBase + "socket.io.min.js"
)

// maxHTTPBufferSize lets a MaxImageBytes image through: over long-polling
// a binary attachment travels base64-encoded, 4/3 of its size. (The
// default, 1 MB, would close the connection of anyone sending a larger
// image.)
const maxHTTPBufferSize = 4 << 20

// Options configures [NewHandler]. The zero value (or nil) is the chat of
// examples/chat: memory adapter, slog.Default().
type Options struct {
	// ClientDir is the directory holding socket.io.min.js and its source
	// map, served at /socket.io.min.js(.map). A file missing there is
	// redirected to the CDN (CDNBase). Default "": the current directory.
	ClientDir string
	// Logger receives the chat's and the server's logs. Default
	// slog.Default().
	Logger *slog.Logger
	// Adapter creates the namespace's adapter; a cluster adapter makes
	// the chat span servers. Default the memory adapter (one server).
	Adapter adapter.Factory
	// MaxImageBytes is the largest image accepted, in bytes. Default
	// MaxImageBytes (2 MiB, the page's own limit); it may only be lowered,
	// e.g. to fit a cluster's largest message (NATS's max_payload).
	MaxImageBytes int
}

// NewHandler returns the chat server and the HTTP handler serving it, the
// page and the browser client. The caller owns the server: Shutdown (or
// Close) it when done, before the http.Server.
func NewHandler(opts *Options) (*socketio.Server, http.Handler, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	switch {
	case o.MaxImageBytes == 0:
		o.MaxImageBytes = MaxImageBytes
	case o.MaxImageBytes < 0 || o.MaxImageBytes > MaxImageBytes:
		return nil, nil, errors.New("chatapp: MaxImageBytes must be between 1 and 2 MiB")
	}
	srv, err := socketio.New(&socketio.Options{
		Logger:  o.Logger,
		Engine:  engineio.Options{MaxHTTPBufferSize: maxHTTPBufferSize},
		Adapter: o.Adapter,
		// A client that lost its connection for up to 2 minutes comes back
		// with the same socket id, room and nickname, and gets the
		// messages it missed.
		ConnectionStateRecovery: &socketio.RecoveryOptions{},
	})
	if err != nil {
		return nil, nil, fmt.Errorf("chatapp: %w", err)
	}
	newChat(srv, o.Logger, o.MaxImageBytes).register()

	mux := http.NewServeMux()
	mux.Handle(srv.Path(), srv)
	mux.Handle("GET /{$}", http.FileServerFS(page))
	for _, name := range []string{"socket.io.min.js", "socket.io.min.js.map"} {
		mux.HandleFunc("GET /"+name, func(w http.ResponseWriter, r *http.Request) {
			file := filepath.Join(o.ClientDir, name)
			if _, err := os.Stat(file); err != nil {
				http.Redirect(w, r, CDNBase+name, http.StatusFound)
				return
			}
			http.ServeFile(w, r, file)
		})
	}
	return srv, mux, nil
}
