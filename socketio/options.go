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
	// ConnectionStateRecovery, if set, lets a client that lost its
	// connection come back with the same socket id, rooms and data, and
	// receive the events it missed (Node's connectionStateRecovery).
	// Default off.
	ConnectionStateRecovery *RecoveryOptions
	// OnError, if set, receives the errors that handlers and socket
	// middleware return, and recovered handler panics. By default they
	// are logged.
	OnError func(s *Socket, err error)
	// Logger receives the server's logs. Default slog.Default().
	Logger *slog.Logger
}

// RecoveryOptions configures connection state recovery.
//
// While a disconnected socket's session is kept, the adapter keeps every
// event broadcast (socket emits included) without ack and not volatile,
// each tagged with an offset appended as its last argument, as Node does;
// the memory adapter keeps them for MaxDisconnectionDuration and at most
// memory.MaxStoredPackets of them. A client that comes back in time with
// a known offset gets its socket back (same id, rooms and data,
// [Socket.Recovered] true) and the missed events, in order, before the
// CONNECT answer; otherwise it starts a new session.
type RecoveryOptions struct {
	// MaxDisconnectionDuration is how long sessions and packets are kept.
	// Default 2 minutes.
	MaxDisconnectionDuration time.Duration
	// SkipMiddlewares skips the connection middleware for a recovered
	// socket. Default true.
	SkipMiddlewares *bool
}

const (
	defaultConnectTimeout           = 45 * time.Second
	defaultMaxDisconnectionDuration = 2 * time.Minute
)

type config struct {
	connectTimeout time.Duration
	newAdapter     adapter.Factory
	cleanupChild   bool
	maxAttachments int
	onError        func(*Socket, error)
	logger         *slog.Logger
	recoveryWindow time.Duration // 0: recovery off
	skipMiddleware bool          // for recovered sockets
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
	if r := o.ConnectionStateRecovery; r != nil {
		if r.MaxDisconnectionDuration < 0 {
			return nil, engineio.Options{}, fmt.Errorf("socketio: invalid options: ConnectionStateRecovery.MaxDisconnectionDuration is negative (%v)", r.MaxDisconnectionDuration)
		}
		c.recoveryWindow = r.MaxDisconnectionDuration
		if c.recoveryWindow == 0 {
			c.recoveryWindow = defaultMaxDisconnectionDuration
		}
		c.skipMiddleware = r.SkipMiddlewares == nil || *r.SkipMiddlewares
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
