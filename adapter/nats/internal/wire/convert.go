package wire

import (
	"fmt"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/socketio/parser"
)

// Wire packet types (the Socket.IO packet type numbers).
const (
	PacketEvent = 2
	PacketAck   = 3
)

// PacketToWire converts p to its cluster form: its JSON data transcoded by
// [FromJSON], objects in order, each placeholder replaced by its
// attachment as a []byte (aliasing p.Attachments, not copied). BINARY_EVENT and BINARY_ACK become EVENT and
// ACK, as Node sends them.
func PacketToWire(p *parser.Packet) (WirePacket, error) {
	w := WirePacket{Type: int(p.Type), Nsp: p.Namespace, ID: p.ID, HasID: p.HasID}
	switch p.Type {
	case parser.BinaryEvent:
		w.Type = PacketEvent
	case parser.BinaryAck:
		w.Type = PacketAck
	}
	if !p.Type.Valid() {
		return w, fmt.Errorf("wire: packet type %v", p.Type)
	}
	if p.Data != nil {
		var err error
		if w.Data, err = FromJSON(p.Data, p.Attachments); err != nil {
			return w, fmt.Errorf("wire: packet data: %w", err)
		}
	}
	return w, nil
}

// PacketFromWire converts a cluster packet back: w.Data is written by
// [ToJSON], every []byte becoming a placeholder and an attachment, and the packet becomes a
// BINARY_EVENT (BINARY_ACK) when there are attachments. The namespace is
// nsp, the message's, as Node overwrites it; w.Nsp when nsp is empty.
func PacketFromWire(w WirePacket, nsp string) (*parser.Packet, error) {
	if w.Type < 0 || !parser.Type(w.Type).Valid() {
		return nil, fmt.Errorf("wire: packet type %d", w.Type)
	}
	if w.HasID && w.ID > maxAckID {
		return nil, fmt.Errorf("wire: ack id %d out of range", w.ID)
	}
	p := &parser.Packet{Type: parser.Type(w.Type), Namespace: nsp, ID: w.ID, HasID: w.HasID}
	if p.Namespace == "" {
		p.Namespace = w.Nsp
	}
	if p.Namespace == "" {
		p.Namespace = "/"
	}
	if w.Data != nil {
		data, atts, err := ToJSON(w.Data)
		if err != nil {
			return nil, fmt.Errorf("wire: packet data: %w", err)
		}
		p.Data, p.Attachments = data, atts
	}
	switch {
	case len(p.Attachments) > 0 && (p.Type == parser.Event || p.Type == parser.BinaryEvent):
		p.Type = parser.BinaryEvent
	case len(p.Attachments) > 0 && (p.Type == parser.Ack || p.Type == parser.BinaryAck):
		p.Type = parser.BinaryAck
	case p.Type == parser.BinaryEvent:
		p.Type = parser.Event
	case p.Type == parser.BinaryAck:
		p.Type = parser.Ack
	case len(p.Attachments) > 0:
		return nil, fmt.Errorf("wire: binary data in a %v packet", p.Type)
	}
	return p, nil
}

// OptsFromBroadcast converts broadcast options to their cluster form.
// Rooms and Except are never nil (Node spreads them into arrays).
func OptsFromBroadcast(o adapter.BroadcastOptions) Opts {
	w := Opts{Rooms: o.Rooms, Except: o.Except}
	if w.Rooms == nil {
		w.Rooms = []string{}
	}
	if w.Except == nil {
		w.Except = []string{}
	}
	w.Flags.Volatile = o.Flags.Volatile
	w.Flags.Local = o.Flags.Local
	if o.Flags.NoCompress {
		f := false
		w.Flags.Compress = &f
	}
	if o.Flags.Timeout > 0 {
		w.Flags.Timeout = max(o.Flags.Timeout.Milliseconds(), 1)
	}
	return w
}

// BroadcastOptions converts cluster options back.
func (o Opts) BroadcastOptions() adapter.BroadcastOptions {
	b := adapter.BroadcastOptions{Rooms: o.Rooms, Except: o.Except}
	b.Flags.Volatile = o.Flags.Volatile
	b.Flags.Local = o.Flags.Local
	b.Flags.NoCompress = o.Flags.Compress != nil && !*o.Flags.Compress
	if o.Flags.Timeout > 0 && o.Flags.Timeout <= maxTimeout {
		b.Flags.Timeout = time.Duration(o.Flags.Timeout) * time.Millisecond
	}
	return b
}

// jsonToValue transcodes JSON that carries no attachments (socket data,
// handshake auth) to a cluster value, as [FromJSON] but with placeholders
// left as objects; nil for no JSON.
func jsonToValue(raw jsontext.Value) (any, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	return fromJSON(raw, nil, false)
}

// valueToJSON writes a cluster value as [ToJSON] does, except that []byte
// becomes a base64 string, encoding/json's form, there being no
// attachments to hold it.
func valueToJSON(v any) (jsontext.Value, error) {
	w := jsonWriter{buf: make([]byte, 0, 64)}
	if err := w.value(v, 0); err != nil {
		return nil, err
	}
	return w.buf, nil
}

// SocketFromInfo converts a socket snapshot to its cluster form.
func SocketFromInfo(info adapter.SocketInfo) (Socket, error) {
	s := Socket{ID: info.ID, Rooms: info.Rooms}
	if s.Rooms == nil {
		s.Rooms = []string{}
	}
	h := &info.Handshake
	s.Handshake = Handshake{
		Headers: h.Headers, Time: h.Time, Address: h.Address, XDomain: h.XDomain,
		Secure: h.Secure, Issued: h.Issued, URL: h.URL, Query: h.Query,
	}
	var err error
	if s.Handshake.Auth, err = jsonToValue(h.Auth); err != nil {
		return s, fmt.Errorf("wire: handshake auth: %w", err)
	}
	if s.Data, err = jsonToValue(info.Data); err != nil {
		return s, fmt.Errorf("wire: socket data: %w", err)
	}
	return s, nil
}

// Info converts a cluster socket back to a snapshot (Local is nil).
func (s Socket) Info() (adapter.SocketInfo, error) {
	info := adapter.SocketInfo{ID: s.ID, Rooms: s.Rooms}
	h := &s.Handshake
	info.Handshake = adapter.Handshake{
		Headers: h.Headers, Time: h.Time, Address: h.Address, XDomain: h.XDomain,
		Secure: h.Secure, Issued: h.Issued, URL: h.URL, Query: h.Query,
	}
	var err error
	if h.Auth != nil {
		if info.Handshake.Auth, err = valueToJSON(h.Auth); err != nil {
			return info, fmt.Errorf("wire: handshake auth: %w", err)
		}
	}
	if s.Data != nil {
		if info.Data, err = valueToJSON(s.Data); err != nil {
			return info, fmt.Errorf("wire: socket data: %w", err)
		}
	}
	return info, nil
}
