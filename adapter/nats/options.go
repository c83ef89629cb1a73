package natsadapter

import (
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Defaults of the options, those of Node's ClusterAdapterWithHeartbeat
// where it has one.
const (
	DefaultSubjectPrefix     = "socketio"
	DefaultHeartbeatInterval = 5 * time.Second
	DefaultHeartbeatTimeout  = 10 * time.Second
	DefaultRequestTimeout    = 5 * time.Second
	DefaultPendingMsgs       = 65536
	DefaultPendingBytes      = 64 << 20
	DefaultStartTimeout      = 2 * time.Second
)

// Option configures the adapter.
type Option func(*config)

type config struct {
	prefix            string
	heartbeatInterval time.Duration
	heartbeatTimeout  time.Duration
	requestTimeout    time.Duration
	pendingMsgs       int
	pendingBytes      int
	startTimeout      time.Duration
	log               *slog.Logger
	testHook          func() // runs at the start of every message callback
}

func newConfig(opts []Option) (config, error) {
	c := config{
		prefix:            DefaultSubjectPrefix,
		heartbeatInterval: DefaultHeartbeatInterval,
		heartbeatTimeout:  DefaultHeartbeatTimeout,
		requestTimeout:    DefaultRequestTimeout,
		pendingMsgs:       DefaultPendingMsgs,
		pendingBytes:      DefaultPendingBytes,
		startTimeout:      DefaultStartTimeout,
	}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if err := validPrefix(c.prefix); err != nil {
		return c, err
	}
	switch {
	case c.heartbeatInterval <= 0:
		return c, fmt.Errorf("natsadapter: heartbeat interval %v: must be positive", c.heartbeatInterval)
	case c.heartbeatTimeout <= c.heartbeatInterval:
		return c, fmt.Errorf("natsadapter: heartbeat timeout %v: must exceed the interval %v", c.heartbeatTimeout, c.heartbeatInterval)
	case c.requestTimeout <= 0:
		return c, fmt.Errorf("natsadapter: request timeout %v: must be positive", c.requestTimeout)
	case c.pendingMsgs <= 0 || c.pendingBytes <= 0:
		return c, fmt.Errorf("natsadapter: pending limits %d messages, %d bytes: must be positive", c.pendingMsgs, c.pendingBytes)
	case c.startTimeout <= 0:
		return c, fmt.Errorf("natsadapter: start timeout %v: must be positive", c.startTimeout)
	}
	return c, nil
}

// validPrefix accepts one or more NATS subject tokens separated by dots,
// without wildcards or white space.
func validPrefix(p string) error {
	if p == "" {
		return fmt.Errorf("natsadapter: empty subject prefix")
	}
	for tok := range strings.SplitSeq(p, ".") {
		if tok == "" || strings.ContainsAny(tok, "*> \t\r\n\f\v") {
			return fmt.Errorf("natsadapter: subject prefix %q: tokens must be non-empty, without wildcards or white space", p)
		}
	}
	return nil
}

// WithSubjectPrefix sets the first token(s) of every subject the adapter
// uses (default "socketio"). Servers of one cluster share it; separate
// applications on one NATS use different prefixes.
func WithSubjectPrefix(prefix string) Option { return func(c *config) { c.prefix = prefix } }

// WithHeartbeat sets how often a server announces itself when it has
// published nothing else (default 5 s) and after how long without a word
// a peer is considered gone (default 10 s). timeout must exceed interval.
func WithHeartbeat(interval, timeout time.Duration) Option {
	return func(c *config) { c.heartbeatInterval, c.heartbeatTimeout = interval, timeout }
}

// WithRequestTimeout bounds cluster requests (FetchSockets,
// ServerSideEmitWithAck, the remote acks of a broadcast) whose context has
// no deadline and whose options carry no timeout (default 5 s, Node's).
func WithRequestTimeout(d time.Duration) Option { return func(c *config) { c.requestTimeout = d } }

// WithPendingLimits sets the limits of each of the adapter's NATS
// subscriptions: messages received but not yet handled (default 65 536
// messages and 64 MiB). Beyond them NATS drops messages (a slow consumer),
// which the adapter logs; memory stays bounded by them.
func WithPendingLimits(msgs, bytes int) Option {
	return func(c *config) { c.pendingMsgs, c.pendingBytes = msgs, bytes }
}

// WithStartTimeout bounds the round trip to NATS made when a namespace's
// adapter starts, which confirms its subscriptions (default 2 s).
func WithStartTimeout(d time.Duration) Option { return func(c *config) { c.startTimeout = d } }

// WithLogger sets the logger (default: no logs).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }
