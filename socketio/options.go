package socketio

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/engineio"
)

// Options configures a [Server]. The zero value of every field means the
// default of the Node.js socket.io 4.8 server; nil *Options means all
// defaults. [New] copies the options.
type Options struct {
	// Engine configures the Engine.IO layer. Its Path defaults to
	// "/socket.io" here; its Logger defaults to Logger.
	Engine engineio.Options
	// ConnectTimeout closes a connection that joined no namespace within
	// it. Default 45s.
	ConnectTimeout time.Duration
	// Adapter creates each namespace's adapter. Default adapter/memory.
	Adapter adapter.Factory
	// CleanupEmptyChildNamespaces removes a dynamic namespace's child when
	// its last socket leaves (Node 4.6's option). Default false.
	CleanupEmptyChildNamespaces bool
	// MaxAttachments bounds the binary attachments of one packet. Default
	// 10 (socket.io-parser 4.2.6).
	MaxAttachments int
	// OnError, if set, receives the errors that handlers and socket
	// middleware return, and recovered handler panics. By default they
	// are logged.
	OnError func(s *Socket, err error)
	// Logger receives the server's logs. Default slog.Default().
	Logger *slog.Logger
}

const defaultConnectTimeout = 45 * time.Second

type config struct {
	connectTimeout time.Duration
	newAdapter     adapter.Factory
	cleanupChild   bool
	maxAttachments int
	onError        func(*Socket, error)
	logger         *slog.Logger
}

func newConfig(o *Options, defaultAdapter adapter.Factory) (*config, engineio.Options, error) {
	if o == nil {
		o = &Options{}
	}
	if o.ConnectTimeout < 0 {
		return nil, engineio.Options{}, fmt.Errorf("socketio: invalid options: ConnectTimeout is negative (%v)", o.ConnectTimeout)
	}
	if o.MaxAttachments < 0 {
		return nil, engineio.Options{}, fmt.Errorf("socketio: invalid options: MaxAttachments is negative (%d)", o.MaxAttachments)
	}
	c := &config{
		connectTimeout: o.ConnectTimeout,
		newAdapter:     o.Adapter,
		cleanupChild:   o.CleanupEmptyChildNamespaces,
		maxAttachments: o.MaxAttachments,
		onError:        o.OnError,
		logger:         o.Logger,
	}
	if c.connectTimeout == 0 {
		c.connectTimeout = defaultConnectTimeout
	}
	if c.newAdapter == nil {
		c.newAdapter = defaultAdapter
	}
	if c.logger == nil {
		c.logger = slog.Default()
	}
	eo := o.Engine
	if eo.Path == "" {
		eo.Path = "/socket.io"
	}
	if eo.Logger == nil {
		eo.Logger = c.logger
	}
	return c, eo, nil
}
