// Package sioclient is the load generator's Socket.IO v5 client: a lean
// Engine.IO v4 client over a gorilla WebSocket ([Dial]) or HTTP
// long-polling ([DialPolling]), connected to the main namespace "/".
//
// It does only what the benchmark needs: the handshake, CONNECT to "/",
// emits with or without an ack (the arguments are JSON the caller has
// already encoded), answering pings, and counting "tick" events without
// decoding them (a tick is recognised by its prefix 42["tick").
// Acks are delivered to a callback with the raw JSON of their arguments.
// Other events are ignored. Binary packets are not supported.
//
// # Concurrency
//
// Every method of [Client] and [PollingClient] is safe for concurrent use.
// A client owns one reader goroutine (WebSocket) or one GET loop
// (polling), which Close stops and waits for. Ack callbacks run on that
// goroutine and must not block.
package sioclient
