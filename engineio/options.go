package engineio

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Transport names, as used in the "transport" query parameter and in
// Options.Transports.
const (
	TransportPolling   = "polling"
	TransportWebSocket = "websocket"
)

// Options configures a [Server]. The zero value of every field means the
// default of the Node.js engine.io 6.6 server; nil *Options means all
// defaults. [New] copies the options: changing them afterwards has no
// effect.
//
// Booleans that default to true in Node are *bool here, nil meaning true:
// write AllowUpgrades: new(false) to turn upgrades off.
type Options struct {
	// Path is the URL path prefix the server answers on. Default
	// "/engine.io" (the socketio package uses "/socket.io").
	Path string
	// AddTrailingSlash appends "/" to Path (Node's addTrailingSlash).
	// Default true: requests must start with "/engine.io/".
	AddTrailingSlash *bool

	// PingInterval is the time between server pings. Default 25s.
	PingInterval time.Duration
	// PingTimeout is how long the server waits for a pong after a ping
	// before it closes the session with "ping timeout". Default 20s.
	// A silent client is detected within PingInterval+PingTimeout.
	PingTimeout time.Duration
	// UpgradeTimeout is how long a WebSocket upgrade may take before the
	// new transport is closed; the polling session lives on. Default 10s.
	UpgradeTimeout time.Duration
	// MaxHTTPBufferSize bounds one long-polling POST body and one
	// WebSocket message, in bytes; it is advertised to clients as
	// maxPayload. Default 1e6 (1 MB).
	MaxHTTPBufferSize int64
	// MaxBufferedBytes bounds what may wait in one session's send queue,
	// in bytes (each packet also counts a fixed 64-byte overhead). A
	// client that does not read fast enough is closed with
	// [ReasonSlowConsumer] when a Send would exceed it; the Send reports
	// [ErrSlowConsumer]. Default 8 MiB. Node.js has no such bound.
	MaxBufferedBytes int

	// Transports lists the transports clients may use, among
	// TransportPolling and TransportWebSocket. Default both.
	Transports []string
	// AllowUpgrades lets polling sessions upgrade to WebSocket. Default
	// true.
	AllowUpgrades *bool

	// AllowRequest, if set, vets every handshake request. A non-nil error
	// rejects it with HTTP 403 {"code":4,"message":err.Error()}.
	AllowRequest func(r *http.Request) error
	// GenerateID returns the id of a new session. Default: 15 bytes from
	// crypto/rand, base64url-encoded (20 characters, 120 bits). An error
	// rejects the handshake with code 3.
	GenerateID func(r *http.Request) (string, error)

	// Cookie, if set, makes the handshake response set a cookie holding
	// the session id (Node's cookie option). Default off.
	Cookie *Cookie
	// CORS, if set, answers cross-origin requests for the listed origins.
	// Default off: no CORS headers, and cross-origin WebSocket handshakes
	// are refused with HTTP 403. See [CORS].
	CORS *CORS
	// PerMessageDeflate, if set, negotiates WebSocket compression
	// (permessage-deflate without context takeover). Default off.
	PerMessageDeflate *PerMessageDeflate
	// HTTPCompression configures gzip/deflate of long-polling responses.
	// The zero value is Node's default: on, for responses of 1024 bytes
	// or more, when the client accepts it.
	HTTPCompression HTTPCompression

	// OnInitialHeaders is called with the headers of the response to each
	// handshake, before they are written (Node's "initial_headers").
	OnInitialHeaders func(h http.Header, r *http.Request)
	// OnHeaders is called with the headers of every polling response and
	// WebSocket handshake response, before they are written (Node's
	// "headers"). On a handshake it runs after OnInitialHeaders.
	OnHeaders func(h http.Header, r *http.Request)
	// OnConnectionError is called for every request rejected before it
	// reached a session (Node's "connection_error").
	OnConnectionError func(err *ConnectionError)

	// Logger receives the server's logs. Default slog.Default().
	Logger *slog.Logger
}

// Cookie configures the session cookie (Options.Cookie).
type Cookie struct {
	// Name of the cookie. Default "io".
	Name string
	// Path of the cookie. Default "/".
	Path string
	// HTTPOnly marks the cookie HttpOnly. Default true.
	HTTPOnly *bool
	// SameSite policy. Default http.SameSiteLaxMode.
	SameSite http.SameSite
	// Secure marks the cookie Secure. Default false.
	Secure bool
	// Domain of the cookie. Default none.
	Domain string
	// MaxAge in seconds; 0 means a session cookie.
	MaxAge int
}

// CORS configures Cross-Origin Resource Sharing, like the Node "cors"
// module that engine.io uses. An origin is allowed when it is listed in
// AllowOrigins, when AllowOriginFunc returns true, or when AllowAnyOrigin
// is set. Allowed origins are reflected in Access-Control-Allow-Origin;
// "*" is sent only with AllowAnyOrigin. Requests from other origins get no
// CORS headers (the browser then blocks them), and their WebSocket
// handshakes are refused with HTTP 403.
type CORS struct {
	// AllowOrigins lists allowed origins exactly as browsers send them,
	// e.g. "https://example.com".
	AllowOrigins []string
	// AllowOriginFunc, if set, allows the origins for which it returns
	// true.
	AllowOriginFunc func(origin string, r *http.Request) bool
	// AllowAnyOrigin allows every origin and answers "*". It cannot be
	// combined with AllowCredentials.
	AllowAnyOrigin bool
	// AllowCredentials sends Access-Control-Allow-Credentials: true.
	AllowCredentials bool
	// AllowMethods for preflight requests. Default
	// GET,HEAD,PUT,PATCH,POST,DELETE (the cors module's default).
	AllowMethods []string
	// AllowHeaders for preflight requests. Default: those the browser
	// asks for in Access-Control-Request-Headers.
	AllowHeaders []string
	// ExposeHeaders lists response headers scripts may read.
	ExposeHeaders []string
	// MaxAge lets browsers cache a preflight answer. Default: not sent.
	MaxAge time.Duration
}

// PerMessageDeflate configures WebSocket compression (Options.PerMessageDeflate).
// Compressed sessions write each message with its own system call; the
// default uncompressed path coalesces writes.
type PerMessageDeflate struct {
	// Threshold is the smallest message, in bytes, that is compressed.
	// Default 1024 (Node's default).
	Threshold int
}

// HTTPCompression configures compression of long-polling responses.
type HTTPCompression struct {
	// Disabled turns compression off.
	Disabled bool
	// Threshold is the smallest response body, in bytes, that is
	// compressed. Default 1024.
	Threshold int
}

// Node.js defaults.
const (
	defaultPath              = "/engine.io"
	defaultPingInterval      = 25 * time.Second
	defaultPingTimeout       = 20 * time.Second
	defaultUpgradeTimeout    = 10 * time.Second
	defaultMaxHTTPBufferSize = 1_000_000
	defaultMaxBufferedBytes  = 8 << 20
	defaultCompressThreshold = 1024
	defaultCookieName        = "io"
)

var defaultCORSMethods = []string{"GET", "HEAD", "PUT", "PATCH", "POST", "DELETE"}

// config is the validated, defaulted form of Options.
type config struct {
	path                string
	pingInterval        time.Duration
	pingTimeout         time.Duration
	upgradeTimeout      time.Duration
	maxHTTPBufferSize   int64
	maxBufferedBytes    int
	polling, websocket  bool
	allowUpgrades       bool
	allowRequest        func(*http.Request) error
	generateID          func(*http.Request) (string, error)
	cookie              *Cookie
	cors                *CORS
	deflate             *PerMessageDeflate
	httpCompression     HTTPCompression
	onInitialHeaders    func(http.Header, *http.Request)
	onHeaders           func(http.Header, *http.Request)
	onConnectionError   func(*ConnectionError)
	logger              *slog.Logger
	transportsAdvertise []string // upgrades offered to polling sessions
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func boolOr(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}

func newConfig(o *Options) (*config, error) {
	if o == nil {
		o = &Options{}
	}
	var errs []error
	for name, d := range map[string]time.Duration{
		"PingInterval": o.PingInterval, "PingTimeout": o.PingTimeout, "UpgradeTimeout": o.UpgradeTimeout,
	} {
		if d < 0 {
			errs = append(errs, fmt.Errorf("%s is negative (%v)", name, d))
		}
	}
	if o.MaxHTTPBufferSize < 0 {
		errs = append(errs, fmt.Errorf("MaxHTTPBufferSize is negative (%d)", o.MaxHTTPBufferSize))
	}
	if o.MaxBufferedBytes < 0 {
		errs = append(errs, fmt.Errorf("MaxBufferedBytes is negative (%d)", o.MaxBufferedBytes))
	}
	c := &config{
		pingInterval:      orDefault(o.PingInterval, defaultPingInterval),
		pingTimeout:       orDefault(o.PingTimeout, defaultPingTimeout),
		upgradeTimeout:    orDefault(o.UpgradeTimeout, defaultUpgradeTimeout),
		maxHTTPBufferSize: orDefault(o.MaxHTTPBufferSize, defaultMaxHTTPBufferSize),
		maxBufferedBytes:  orDefault(o.MaxBufferedBytes, defaultMaxBufferedBytes),
		allowUpgrades:     boolOr(o.AllowUpgrades, true),
		allowRequest:      o.AllowRequest,
		generateID:        o.GenerateID,
		onInitialHeaders:  o.OnInitialHeaders,
		onHeaders:         o.OnHeaders,
		onConnectionError: o.OnConnectionError,
		logger:            o.Logger,
		httpCompression:   o.HTTPCompression,
	}
	if c.generateID == nil {
		c.generateID = defaultGenerateID
	}
	if c.logger == nil {
		c.logger = slog.Default()
	}
	c.httpCompression.Threshold = orDefault(c.httpCompression.Threshold, defaultCompressThreshold)
	if c.httpCompression.Threshold < 0 {
		errs = append(errs, fmt.Errorf("HTTPCompression.Threshold is negative (%d)", o.HTTPCompression.Threshold))
	}

	c.path = strings.TrimSuffix(orDefault(o.Path, defaultPath), "/")
	if boolOr(o.AddTrailingSlash, true) {
		c.path += "/"
	}
	if !strings.HasPrefix(c.path, "/") {
		errs = append(errs, fmt.Errorf("Path %q does not start with /", o.Path))
	}

	transports := slices.Clone(o.Transports)
	if len(transports) == 0 {
		transports = []string{TransportPolling, TransportWebSocket}
	}
	for _, t := range transports {
		switch t {
		case TransportPolling:
			c.polling = true
		case TransportWebSocket:
			c.websocket = true
		default:
			errs = append(errs, fmt.Errorf("unknown transport %q in Transports", t))
		}
	}
	if c.allowUpgrades && c.polling && c.websocket {
		c.transportsAdvertise = []string{TransportWebSocket}
	} else {
		c.transportsAdvertise = []string{}
	}

	if o.Cookie != nil {
		ck := *o.Cookie
		ck.Name = orDefault(ck.Name, defaultCookieName)
		ck.Path = orDefault(ck.Path, "/")
		ck.SameSite = orDefault(ck.SameSite, http.SameSiteLaxMode)
		ck.HTTPOnly = new(boolOr(ck.HTTPOnly, true)) // a copy: the caller's pointer may change
		c.cookie = &ck
	}
	if o.CORS != nil {
		cors := *o.CORS
		if cors.AllowAnyOrigin && cors.AllowCredentials {
			errs = append(errs, errors.New("CORS: AllowAnyOrigin cannot be combined with AllowCredentials; list the origins or use AllowOriginFunc"))
		}
		if len(cors.AllowMethods) == 0 {
			cors.AllowMethods = defaultCORSMethods
		}
		cors.AllowOrigins = slices.Clone(cors.AllowOrigins)
		cors.AllowMethods = slices.Clone(cors.AllowMethods)
		cors.AllowHeaders = slices.Clone(cors.AllowHeaders)
		cors.ExposeHeaders = slices.Clone(cors.ExposeHeaders)
		c.cors = &cors
	}
	if o.PerMessageDeflate != nil {
		d := *o.PerMessageDeflate
		d.Threshold = orDefault(d.Threshold, defaultCompressThreshold)
		c.deflate = &d
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("engineio: invalid options: %w", err)
	}
	return c, nil
}
