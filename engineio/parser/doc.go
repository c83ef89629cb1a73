// Package parser encodes and decodes Engine.IO protocol v4 packets and
// HTTP long-polling payloads.
//
// It is pure: no I/O, no goroutines, no global state. Decoders never panic
// and never allocate more than the size of their input, whatever the input
// says ([Packets] and [DecodePacket] allocate only for base64 data), so
// they are safe to run on bytes straight off the network. The
// package is what the engineio server, test clients and fuzzers share.
//
// # Wire format
//
// A packet is one type character followed by its data:
//
//	0 open     server → client, JSON handshake data
//	1 close    either way, no data
//	2 ping     server → client (the client answers with pong); "2probe" during an upgrade
//	3 pong     client → server; "3probe" answers a probe
//	4 message  either way, text data ("4hello")
//	5 upgrade  client → server, completes a transport upgrade
//	6 noop     server → client, releases a pending long-polling request
//
// Binary messages travel as WebSocket binary frames with no type character.
// In a long-polling payload, packets are separated by the record separator
// 0x1e and a binary message is written as "b" followed by its standard,
// padded base64 encoding.
//
// # Errors
//
// Every malformed input yields an error wrapping [ErrInvalidPacket] or
// [ErrInvalidPayload]; the Engine.IO server answers both by closing the
// session with the reason "parse error", as the Node.js server does.
package parser
