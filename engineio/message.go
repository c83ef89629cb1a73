package engineio

import (
	"sync"

	"github.com/gorilla/websocket"

	"github.com/gosio/gosio/engineio/parser"
)

// Message is an outgoing Engine.IO packet, encoded at most once whatever
// the number of sessions it is sent to. Build one with [NewMessage] and
// pass it to [Session.SendMessages] of as many sessions as needed: the
// payload bytes are shared, a binary payload is base64-encoded once for all
// polling sessions, and a compressed WebSocket frame is built once for all
// compressing sessions. Only the 2–10 byte WebSocket frame header is
// written per recipient.
//
// A Message is immutable and safe for concurrent use. Its data must not be
// modified once it has been passed to NewMessage.
type Message struct {
	typ      parser.Type
	data     []byte
	binary   bool
	noDeflat bool

	b64Once sync.Once
	b64     []byte // "b" + base64(data), for polling

	prepOnce sync.Once
	prepared *websocket.PreparedMessage // for compressing WebSocket sessions
	prepErr  error
}

// NewMessage returns a message packet holding data, sent as a binary
// message if binary is true and as text otherwise. It takes ownership of
// data.
func NewMessage(data []byte, binary bool) *Message {
	return &Message{typ: parser.Message, data: data, binary: binary}
}

// WithoutCompression returns a copy of m that is never compressed, neither
// by permessage-deflate nor by HTTP compression (Socket.IO's
// compress(false)).
func (m *Message) WithoutCompression() *Message {
	return &Message{typ: m.typ, data: m.data, binary: m.binary, noDeflat: true}
}

// Data returns the message's payload. It must not be modified.
func (m *Message) Data() []byte { return m.data }

// Binary reports whether m is a binary message.
func (m *Message) Binary() bool { return m.binary }

func controlMessage(t parser.Type, data string) *Message {
	return &Message{typ: t, data: []byte(data)}
}

// Shared control packets.
var (
	msgPing      = controlMessage(parser.Ping, "")
	msgNoop      = controlMessage(parser.Noop, "")
	msgClose     = controlMessage(parser.Close, "")
	msgPongProbe = controlMessage(parser.Pong, "probe")
)

// packet returns m as a parser packet (sharing its data).
func (m *Message) packet() parser.Packet {
	return parser.Packet{Type: m.typ, Data: m.data, Binary: m.binary}
}

// cost is what m counts against Options.MaxBufferedBytes.
func (m *Message) cost() int { return len(m.data) + packetOverhead }

// packetOverhead is the fixed cost of one queued packet, so that a flood of
// empty packets is bounded too.
const packetOverhead = 64

// appendPolling appends m as it travels in a long-polling payload.
func (m *Message) appendPolling(dst []byte) []byte {
	if !m.binary {
		return parser.AppendPacket(dst, m.packet())
	}
	m.b64Once.Do(func() { m.b64 = parser.AppendPayloadPacket(nil, m.packet()) })
	return append(dst, m.b64...)
}

// pollingLen is the length appendPolling appends.
func (m *Message) pollingLen() int { return parser.EncodedLen(m.packet()) }

// preparedMessage returns m as a gorilla prepared message, for sessions
// that write through gorilla (permessage-deflate).
func (m *Message) preparedMessage() (*websocket.PreparedMessage, error) {
	m.prepOnce.Do(func() {
		op := websocket.TextMessage
		if m.binary {
			op = websocket.BinaryMessage
		}
		m.prepared, m.prepErr = websocket.NewPreparedMessage(op, parser.AppendPacket(nil, m.packet()))
	})
	return m.prepared, m.prepErr
}

// WebSocket frame opcodes and bits (RFC 6455 §5.2).
const (
	wsFinal        = 0x80
	wsOpText       = 0x1
	wsOpBinary     = 0x2
	wsOpClose      = 0x8
	wsLen16        = 126
	wsLen64        = 127
	wsMaxHeaderLen = 10
)

// appendFrame appends m as one unmasked server-to-client WebSocket frame.
func (m *Message) appendFrame(dst []byte) []byte {
	op, n := byte(wsOpText), len(m.data)+1
	if m.binary {
		op, n = wsOpBinary, len(m.data)
	}
	dst = appendFrameHeader(dst, op, n)
	if !m.binary {
		dst = append(dst, '0'+byte(m.typ))
	}
	return append(dst, m.data...)
}

// frameLen is the length appendFrame appends.
func (m *Message) frameLen() int {
	n := len(m.data)
	if !m.binary {
		n++
	}
	switch {
	case n < wsLen16:
		return n + 2
	case n <= 0xffff:
		return n + 4
	default:
		return n + wsMaxHeaderLen
	}
}

func appendFrameHeader(dst []byte, op byte, n int) []byte {
	switch {
	case n < wsLen16:
		return append(dst, wsFinal|op, byte(n))
	case n <= 0xffff:
		return append(dst, wsFinal|op, wsLen16, byte(n>>8), byte(n))
	default:
		u := uint64(n)
		return append(dst, wsFinal|op, wsLen64,
			byte(u>>56), byte(u>>48), byte(u>>40), byte(u>>32),
			byte(u>>24), byte(u>>16), byte(u>>8), byte(u))
	}
}

// appendFrameHeaderOnly appends the frame header (and the type character
// of a text packet) for a payload of n data bytes.
func (m *Message) appendFrameHeaderOnly(dst []byte, n int) []byte {
	if m.binary {
		return appendFrameHeader(dst, wsOpBinary, n)
	}
	dst = appendFrameHeader(dst, wsOpText, n+1)
	return append(dst, '0'+byte(m.typ))
}
