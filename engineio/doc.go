// Package engineio is an Engine.IO protocol v4 server: the transport layer
// under Socket.IO, speaking HTTP long-polling, WebSocket and the upgrade
// between them exactly as the Node.js engine.io 6.6 server does, so that
// every official client (engine.io-client, and the Socket.IO clients built
// on it) works unchanged.
//
// A [Server] is an [http.Handler]; each client connection is a [Session]:
//
//	srv, err := engineio.New(nil) // Node's defaults
//	if err != nil { … }
//	srv.OnConnection(func(s *engineio.Session) {
//		s.OnMessage(func(data []byte, binary bool) {
//			_ = s.Send(data) // echo
//		})
//		s.OnClose(func(reason engineio.Reason, err error) {
//			log.Println(s.ID(), "closed:", reason)
//		})
//	})
//	mux.Handle("/engine.io/", srv)
//
// Most programs use the socketio package on top of this one instead.
//
// # Concurrency
//
// Every method is safe for concurrent use. A session's incoming events are
// delivered one at a time, in order, on the goroutine that read them (the
// WebSocket reader or the polling POST handler); a slow callback stalls
// only its own session and, through TCP, its client. Sending never blocks:
// packets go into a per-session queue, bounded in bytes, that one writer
// per session drains. The WebSocket writer coalesces whatever is queued
// into few writes (many frames, one system call) and runs only while there
// is something to write, so an idle session holds no writer goroutine. A
// [Message] sent to many sessions is encoded once.
//
// # Limits and defaults
//
// Zero values mean the Node.js defaults: PingInterval 25s, PingTimeout
// 20s, UpgradeTimeout 10s, MaxHTTPBufferSize 1e6 bytes (one POST body or
// one WebSocket message, counted after decompression), both transports,
// upgrades allowed, CORS off, cookie off, permessage-deflate off, HTTP
// compression of polling responses from 1024 bytes. gosio adds
// MaxBufferedBytes (8 MiB): a client whose send queue would exceed it is
// closed with [ReasonSlowConsumer] instead of growing memory without
// bound, as Node's does. Session ids carry 120 bits from crypto/rand.
//
// # Errors
//
// Rejected requests get Node's HTTP status and JSON body
// {"code":N,"message":"…"} (see [ErrorCode]) and are reported to
// Options.OnConnectionError as a [*ConnectionError]. Sessions close with
// Node's reasons ([Reason]): "transport close", "transport error", "ping
// timeout", "parse error", "forced close", "server shutting down". Client
// mistakes are logged at Debug level; they never affect other sessions.
//
// # Compatibility
//
//	Node option         Go field
//	path                Options.Path
//	addTrailingSlash    Options.AddTrailingSlash
//	pingInterval        Options.PingInterval
//	pingTimeout         Options.PingTimeout
//	upgradeTimeout      Options.UpgradeTimeout
//	maxHttpBufferSize   Options.MaxHTTPBufferSize
//	transports          Options.Transports
//	allowUpgrades       Options.AllowUpgrades
//	allowRequest        Options.AllowRequest
//	cookie              Options.Cookie
//	cors                Options.CORS
//	perMessageDeflate   Options.PerMessageDeflate
//	httpCompression     Options.HTTPCompression
//	generateId          Options.GenerateID
//	"initial_headers"   Options.OnInitialHeaders
//	"headers"           Options.OnHeaders
//	"connection_error"  Options.OnConnectionError
//	"connection"        Server.OnConnection
//
// Differences, each deliberate: protocol v3 (allowEIO3) is not supported
// yet; a cross-origin WebSocket handshake is refused with 403 unless CORS
// allows the origin (Node accepts it; see CVE-2020-28481); a refused
// WebSocket handshake with code 4 answers 403 where Node answers 400; a
// POST with an invalid payload is answered 400 where Node destroys the
// request; WebTransport is not offered.
package engineio
