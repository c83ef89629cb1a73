// Package parser encodes and decodes Socket.IO protocol v5 packets,
// binary attachments included, like the Node.js socket.io-parser 4.2.6.
//
// It is pure: no I/O, no goroutines, no global state. The [Decoder]
// never panics and never allocates in proportion to a size the input
// merely declares, so it is safe to run on bytes straight off the
// network; it is fuzzed. The socketio server, test clients and fuzzers
// share it. The Engine.IO layer below (package engineio/parser) carries
// each packet as one text message followed by one binary message per
// attachment.
//
// # Wire format
//
// A packet is a text frame
//
//	<type>[<attachments>-][<namespace>,][<ack id>][<JSON payload>]
//
//	0 CONNECT        0/chat,{"token":"x"}                      to /chat, with auth
//	1 DISCONNECT     1/chat,
//	2 EVENT          2/chat,12["message","hi"]                 ack id 12
//	3 ACK            3/chat,12["ok"]
//	4 CONNECT_ERROR  4{"message":"Invalid namespace"}
//	5 BINARY_EVENT   51-["up",{"_placeholder":true,"num":0}]   then 1 binary frame
//	6 BINARY_ACK     61-/chat,13[{"_placeholder":true,"num":0}]
//
// The attachment count is present for BINARY_EVENT and BINARY_ACK only.
// A namespace starts with '/' and runs to the next ',' or the end of the
// frame ("0/chat" is a CONNECT to /chat); without one the namespace is
// "/". An ack id is a run of ASCII digits. The rest is the payload.
//
// A binary packet's frame is followed by exactly as many binary frames
// as it declares. In the payload, each attachment is represented by a
// placeholder {"_placeholder":true,"num":N}, N being its index.
//
// # Validation
//
// [Decoder.Add] validates a text frame completely before returning, as
// Node's decoder does, and rejects:
//   - an empty frame or a type outside '0'–'6';
//   - an attachment count that is not a decimal number of at least 1, or
//     that exceeds [Decoder.MaxAttachments] (10 by default);
//   - a namespace that is not valid UTF-8, an ack id above 2^53-1;
//   - a payload that is not exactly one JSON value (RFC 8259, valid UTF-8,
//     at most 10 000 levels deep), or not of the shape the type requires:
//     CONNECT an object or nothing, DISCONNECT nothing, CONNECT_ERROR a
//     string or an object, EVENT and BINARY_EVENT a non-empty array whose
//     first element is a number or a string that is not reserved (see
//     [IsReserved]), ACK and BINARY_ACK an array;
//   - a placeholder (an object whose "_placeholder" member is true) whose
//     "num" is not an integer in [0, count) (CVE-2022-2421), checked when
//     the text frame arrives, before any attachment;
//   - a text frame while attachments are awaited, a binary frame while
//     none are.
//
// Validation walks the payload once, without recursion, in time linear
// in its size; the payload is not copied and nothing is unmarshalled:
// [Packet.Data] is the raw JSON, for the application to decode.
//
// # Go values
//
// [MarshalEvent], [MarshalArgs] and [Marshal] build payloads from Go
// values and [Unmarshal] decodes them, with the rules of encoding/json
// (v1) and one addition: []byte values are binary attachments. Marshal
// replaces each []byte, at any depth, by a placeholder and returns the
// bytes as attachments; Unmarshal turns a placeholder back into the
// attachment when decoding into a []byte or an any. [Elements] splits an
// EVENT or ACK payload into its arguments without copying, and
// [EventName] reads an event's name.
//
// # Errors
//
// Every error of the Decoder wraps one of [ErrInvalidPacket],
// [ErrTooManyAttachments], [ErrIllegalAttachments], [ErrUnexpectedBinary]
// and [ErrUnexpectedText], and contains the message of the Node.js
// parser ("invalid payload", "too many attachments", …). Each means the
// peer broke the protocol: the Socket.IO server closes the connection,
// with the reason "parse error", as Node's does. Errors of [Unmarshal]
// come from decoding JSON into the application's types (except
// [ErrIllegalAttachments] for a bad placeholder) and concern the
// application, not the protocol.
//
// # Concurrency
//
// A [Decoder] holds the state of one connection and must not be used
// concurrently. All functions are safe for concurrent use.
//
// # Compatibility
//
// Decoding matches socket.io-parser 4.2.6 (and its maxAttachments
// default of 10) on everything the official clients send. Where Node
// accepts malformed input, this package is stricter, deliberately:
//   - an empty frame is invalid (Node decodes "" as a CONNECT to "/");
//   - a BINARY_EVENT or BINARY_ACK must declare at least one attachment
//     (Node accepts "50-", then rejects the connection's next text
//     frame);
//   - the attachment count and the ack id are ASCII digits only (Node
//     also reads " 1", "0x1" or "1e1" as a count, and a space as ack id
//     0), and ack ids above 2^53-1, which JavaScript cannot represent,
//     are invalid;
//   - EVENT, ACK and CONNECT_ERROR packets need a payload (Node lets
//     "2" through, and the server then dispatches an undefined event);
//   - a placeholder's num must be an integer ("1", "1.0" or "-0" as
//     JavaScript reads them; Node yields undefined for 1.5), and a
//     placeholder in a packet without attachments is invalid (Node
//     leaves it as an object);
//   - raw invalid UTF-8 is invalid (JavaScript would have replaced it
//     with U+FFFD). Escaped lone surrogates ("\ud800"), which
//     JSON.stringify produces, are valid, and so are duplicate object
//     names (the last one wins, as in JSON.parse).
//
// The encoder writes what Node's does: the namespace "/" and its comma
// are omitted, and a packet with attachments is a BINARY_EVENT or
// BINARY_ACK. A numeric event name is returned by [EventName] as its
// JSON text, which is what JavaScript's String(n) gives for every number
// JSON.stringify writes. Marshal escapes <, > and & in strings, as
// encoding/json does; JSON.parse reads them back unchanged.
package parser
