package wire

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

// ErrInvalidMessage is wrapped by every error [Decode] returns.
var ErrInvalidMessage = errors.New("wire: invalid cluster message")

// MessageType is the type of a cluster message (MessageType in
// socket.io-adapter's cluster-adapter.ts).
type MessageType int

// The official message types.
const (
	InitialHeartbeat       MessageType = 1
	Heartbeat              MessageType = 2
	Broadcast              MessageType = 3
	SocketsJoin            MessageType = 4
	SocketsLeave           MessageType = 5
	DisconnectSockets      MessageType = 6
	FetchSockets           MessageType = 7
	FetchSocketsResponse   MessageType = 8
	ServerSideEmit         MessageType = 9
	ServerSideEmitResponse MessageType = 10
	BroadcastClientCount   MessageType = 11
	BroadcastAck           MessageType = 12
	AdapterClose           MessageType = 13
	maxType                            = AdapterClose
)

var typeNames = [...]string{
	"", "INITIAL_HEARTBEAT", "HEARTBEAT", "BROADCAST", "SOCKETS_JOIN", "SOCKETS_LEAVE",
	"DISCONNECT_SOCKETS", "FETCH_SOCKETS", "FETCH_SOCKETS_RESPONSE", "SERVER_SIDE_EMIT",
	"SERVER_SIDE_EMIT_RESPONSE", "BROADCAST_CLIENT_COUNT", "BROADCAST_ACK", "ADAPTER_CLOSE",
}

// String returns the official name of t.
func (t MessageType) String() string {
	if t.Valid() {
		return typeNames[t]
	}
	return fmt.Sprintf("MessageType(%d)", int(t))
}

// Valid reports whether t is one of the 13 official types.
func (t MessageType) Valid() bool { return t >= InitialHeartbeat && t <= maxType }

// EmitterUID is the uid of messages sent by Node's cluster emitter, a
// publisher that is not a server: it is never counted as a peer.
const EmitterUID = "emitter"

// Message is one cluster message. Data is nil for InitialHeartbeat,
// Heartbeat and AdapterClose, and otherwise the payload of its type:
//
//	Broadcast                    *BroadcastData
//	SocketsJoin, SocketsLeave    *SocketsRoomsData
//	DisconnectSockets            *DisconnectSocketsData
//	FetchSockets                 *FetchSocketsData
//	FetchSocketsResponse         *FetchSocketsResponseData
//	ServerSideEmit               *ServerSideEmitData
//	ServerSideEmitResponse       *ServerSideEmitResponseData
//	BroadcastClientCount         *BroadcastClientCountData
//	BroadcastAck                 *BroadcastAckData
//
// [Decode] returns these pointer types; [Encode] also accepts the structs
// themselves.
type Message struct {
	UID  string
	NSP  string
	Type MessageType
	Data any
}

// Flags are the broadcast flags that travel (Node's BroadcastFlags; the
// "broadcast" and "binary" flags are local to the sender and ignored).
type Flags struct {
	// Volatile is sent only when true: Node tests its presence.
	Volatile bool
	// Compress is nil when absent (compression allowed).
	Compress *bool
	// Local is sent only when true.
	Local bool
	// Timeout is in milliseconds, sent only when positive.
	Timeout int64
}

// Opts selects sockets: {rooms, except, flags}.
type Opts struct {
	Rooms  []string
	Except []string
	Flags  Flags
}

// WirePacket is a Socket.IO packet as the cluster carries it:
// {type, data, nsp?, id?}, binary values inside Data as []byte.
type WirePacket struct {
	Type int
	Data any
	// Nsp is omitted when empty.
	Nsp string
	// ID is the ack id, present when HasID.
	ID    uint64
	HasID bool
}

// BroadcastData is the payload of Broadcast. A non-empty RequestID asks
// for BroadcastClientCount and BroadcastAck answers.
type BroadcastData struct {
	Opts      Opts
	Packet    WirePacket
	RequestID string
}

// SocketsRoomsData is the payload of SocketsJoin and SocketsLeave.
type SocketsRoomsData struct {
	Opts  Opts
	Rooms []string
}

// DisconnectSocketsData is the payload of DisconnectSockets.
type DisconnectSocketsData struct {
	Opts  Opts
	Close bool
}

// FetchSocketsData is the payload of FetchSockets.
type FetchSocketsData struct {
	Opts      Opts
	RequestID string
}

// Handshake is socket.handshake as it travels in FETCH_SOCKETS_RESPONSE.
// A header or query value travels as a string when it has one element and
// as an array otherwise; both forms decode to a slice.
type Handshake struct {
	Headers map[string][]string
	Time    string
	Address string
	XDomain bool
	Secure  bool
	Issued  int64
	URL     string
	Query   map[string][]string
	Auth    any
}

// Socket is one socket of FETCH_SOCKETS_RESPONSE: {id, handshake, rooms, data}.
type Socket struct {
	ID        string
	Handshake Handshake
	Rooms     []string
	Data      any
}

// FetchSocketsResponseData is the payload of FetchSocketsResponse.
type FetchSocketsResponseData struct {
	RequestID string
	Sockets   []Socket
}

// ServerSideEmitData is the payload of ServerSideEmit: Packet is
// [event, args...]; a non-empty RequestID asks for one answer per server.
type ServerSideEmitData struct {
	RequestID string
	Packet    []any
}

// ServerSideEmitResponseData is the payload of ServerSideEmitResponse:
// Packet is the first argument the receiver's callback was called with.
// Args, a gosio extension that Node ignores, holds all of them when there
// are several (nil otherwise).
type ServerSideEmitResponseData struct {
	RequestID string
	Packet    any
	Args      []any
}

// BroadcastClientCountData is the payload of BroadcastClientCount.
type BroadcastClientCountData struct {
	RequestID   string
	ClientCount int64
}

// BroadcastAckData is the payload of BroadcastAck: Packet is the first
// argument of one client's acknowledgement, Args (a gosio extension that
// Node ignores) all of them when there are several (nil otherwise).
type BroadcastAckData struct {
	RequestID string
	Packet    any
	Args      []any
}

// Official field names.
const (
	fUID, fNSP, fType, fData         = "uid", "nsp", "type", "data"
	fOpts, fRooms, fExcept, fFlags   = "opts", "rooms", "except", "flags"
	fVolatile, fCompress, fLocal     = "volatile", "compress", "local"
	fTimeout, fPacket, fRequestID    = "timeout", "packet", "requestId"
	fClose, fSockets, fClientCount   = "close", "sockets", "clientCount"
	fID, fHandshake                  = "id", "handshake"
	fHeaders, fTime, fAddress, fXDom = "headers", "time", "address", "xdomain"
	fSecure, fIssued, fURL, fQuery   = "secure", "issued", "url", "query"
	fAuth                            = "auth"
	fArgs                            = "args" // gosio extension
)

// maxTimeout is the largest timeout in milliseconds that fits a Duration.
const maxTimeout = math.MaxInt64 / int64(time.Millisecond)

// ---------------------------------------------------------------- encoding

// encoder writes maps field by field with the official names.
type encoder struct {
	*msgpack.Encoder
}

// Encode returns the MessagePack encoding of m.
func Encode(m *Message) ([]byte, error) {
	if m == nil {
		return nil, errors.New("wire: encode: nil message")
	}
	if !m.Type.Valid() {
		return nil, fmt.Errorf("wire: encode: unknown message type %d", int(m.Type))
	}
	var buf bytes.Buffer
	enc := msgpack.GetEncoder()
	defer msgpack.PutEncoder(enc)
	enc.Reset(&buf)
	enc.UseCompactInts(true)
	enc.UseCompactFloats(true)
	e := encoder{enc}
	n := 3
	if m.Data != nil {
		n = 4
	}
	e.mapLen(n)
	e.str(fUID)
	e.str(m.UID)
	e.str(fNSP)
	e.str(m.NSP)
	e.str(fType)
	if err := e.EncodeInt(int64(m.Type)); err != nil {
		return nil, err
	}
	if m.Data != nil {
		e.str(fData)
		if err := e.data(m.Type, m.Data); err != nil {
			return nil, fmt.Errorf("wire: encode %v: %w", m.Type, err)
		}
	}
	return buf.Bytes(), nil
}

// The encoder writes to a bytes.Buffer, which never fails: errors of the
// primitive writes can be ignored, only values (Encode) may fail.
func (e encoder) mapLen(n int)   { _ = e.EncodeMapLen(n) }
func (e encoder) str(s string)   { _ = e.EncodeString(s) }
func (e encoder) boolean(b bool) { _ = e.EncodeBool(b) }
func (e encoder) int(n int64)    { _ = e.EncodeInt(n) }

func (e encoder) strs(s []string) {
	_ = e.EncodeArrayLen(len(s))
	for _, v := range s {
		e.str(v)
	}
}

// maxEncodeDepth bounds the nesting of the free-form values Encode
// writes: deeper (or cyclic) values are an error, not a stack overflow.
const maxEncodeDepth = 10000

// value writes a free-form value: an [Object] as a map in its order, a
// map[string]any as a map with sorted keys (deterministic output for
// messages built by hand), []byte as bin, and the other types of
// [Decode]'s values as their MessagePack forms. Other types are left to
// the library.
func (e encoder) value(v any) error { return e.valueDepth(v, 0) }

func (e encoder) valueDepth(v any, depth int) error {
	if depth > maxEncodeDepth {
		return fmt.Errorf("value nested deeper than %d", maxEncodeDepth)
	}
	switch v := v.(type) {
	case nil:
		_ = e.EncodeNil()
	case bool:
		e.boolean(v)
	case string:
		e.str(v)
	case int64:
		e.int(v)
	case int:
		e.int(int64(v))
	case uint64:
		_ = e.EncodeUint(v)
	case float64:
		_ = e.EncodeFloat64(v)
	case []byte:
		_ = e.EncodeBytes(v)
	case Object:
		if v == nil {
			_ = e.EncodeNil()
			return nil
		}
		e.mapLen(len(v))
		for i := range v {
			e.str(v[i].Key)
			if err := e.valueDepth(v[i].Value, depth+1); err != nil {
				return err
			}
		}
	case []any:
		if v == nil {
			_ = e.EncodeNil()
			return nil
		}
		_ = e.EncodeArrayLen(len(v))
		for _, x := range v {
			if err := e.valueDepth(x, depth+1); err != nil {
				return err
			}
		}
	case map[string]any:
		if v == nil {
			_ = e.EncodeNil()
			return nil
		}
		e.mapLen(len(v))
		for _, k := range slices.Sorted(maps.Keys(v)) {
			e.str(k)
			if err := e.valueDepth(v[k], depth+1); err != nil {
				return err
			}
		}
	case time.Time:
		_ = e.EncodeTime(v)
	default:
		return e.Encode(v)
	}
	return nil
}

func (e encoder) data(t MessageType, d any) error {
	switch t {
	case Broadcast:
		switch d := d.(type) {
		case *BroadcastData:
			return e.broadcast(d)
		case BroadcastData:
			return e.broadcast(&d)
		}
	case SocketsJoin, SocketsLeave:
		switch d := d.(type) {
		case *SocketsRoomsData:
			return e.socketsRooms(d)
		case SocketsRoomsData:
			return e.socketsRooms(&d)
		}
	case DisconnectSockets:
		switch d := d.(type) {
		case *DisconnectSocketsData:
			return e.disconnect(d)
		case DisconnectSocketsData:
			return e.disconnect(&d)
		}
	case FetchSockets:
		switch d := d.(type) {
		case *FetchSocketsData:
			return e.fetch(d)
		case FetchSocketsData:
			return e.fetch(&d)
		}
	case FetchSocketsResponse:
		switch d := d.(type) {
		case *FetchSocketsResponseData:
			return e.fetchResponse(d)
		case FetchSocketsResponseData:
			return e.fetchResponse(&d)
		}
	case ServerSideEmit:
		switch d := d.(type) {
		case *ServerSideEmitData:
			return e.serverSideEmit(d)
		case ServerSideEmitData:
			return e.serverSideEmit(&d)
		}
	case ServerSideEmitResponse:
		switch d := d.(type) {
		case *ServerSideEmitResponseData:
			return e.response(d.RequestID, d.Packet, d.Args)
		case ServerSideEmitResponseData:
			return e.response(d.RequestID, d.Packet, d.Args)
		}
	case BroadcastClientCount:
		switch d := d.(type) {
		case *BroadcastClientCountData:
			return e.clientCount(d)
		case BroadcastClientCountData:
			return e.clientCount(&d)
		}
	case BroadcastAck:
		switch d := d.(type) {
		case *BroadcastAckData:
			return e.response(d.RequestID, d.Packet, d.Args)
		case BroadcastAckData:
			return e.response(d.RequestID, d.Packet, d.Args)
		}
	}
	return fmt.Errorf("data of type %T does not match the message type", d)
}

func (e encoder) opts(o *Opts) {
	e.mapLen(3)
	e.str(fRooms)
	e.strs(o.Rooms)
	e.str(fExcept)
	e.strs(o.Except)
	e.str(fFlags)
	f := &o.Flags
	n := 0
	for _, set := range [...]bool{f.Volatile, f.Compress != nil, f.Local, f.Timeout > 0} {
		if set {
			n++
		}
	}
	e.mapLen(n)
	if f.Volatile {
		e.str(fVolatile)
		e.boolean(true)
	}
	if f.Compress != nil {
		e.str(fCompress)
		e.boolean(*f.Compress)
	}
	if f.Local {
		e.str(fLocal)
		e.boolean(true)
	}
	if f.Timeout > 0 {
		e.str(fTimeout)
		e.int(f.Timeout)
	}
}

func (e encoder) packet(p *WirePacket) error {
	n := 2
	if p.Nsp != "" {
		n++
	}
	if p.HasID {
		n++
	}
	e.mapLen(n)
	e.str(fType)
	e.int(int64(p.Type))
	e.str(fData)
	if err := e.value(p.Data); err != nil {
		return err
	}
	if p.Nsp != "" {
		e.str(fNSP)
		e.str(p.Nsp)
	}
	if p.HasID {
		e.str(fID)
		_ = e.EncodeUint(p.ID)
	}
	return nil
}

func (e encoder) broadcast(d *BroadcastData) error {
	n := 2
	if d.RequestID != "" {
		n++
	}
	e.mapLen(n)
	e.str(fOpts)
	e.opts(&d.Opts)
	e.str(fPacket)
	if err := e.packet(&d.Packet); err != nil {
		return err
	}
	if d.RequestID != "" {
		e.str(fRequestID)
		e.str(d.RequestID)
	}
	return nil
}

func (e encoder) socketsRooms(d *SocketsRoomsData) error {
	e.mapLen(2)
	e.str(fOpts)
	e.opts(&d.Opts)
	e.str(fRooms)
	e.strs(d.Rooms)
	return nil
}

func (e encoder) disconnect(d *DisconnectSocketsData) error {
	e.mapLen(2)
	e.str(fOpts)
	e.opts(&d.Opts)
	e.str(fClose)
	e.boolean(d.Close)
	return nil
}

func (e encoder) fetch(d *FetchSocketsData) error {
	e.mapLen(2)
	e.str(fOpts)
	e.opts(&d.Opts)
	e.str(fRequestID)
	e.str(d.RequestID)
	return nil
}

// multi writes a header or query map: one value as a string, several as
// an array (Node's IncomingHttpHeaders and ParsedUrlQuery).
func (e encoder) multi(m map[string][]string) {
	e.mapLen(len(m))
	for k, v := range m {
		e.str(k)
		if len(v) == 1 {
			e.str(v[0])
		} else {
			e.strs(v)
		}
	}
}

func (e encoder) fetchResponse(d *FetchSocketsResponseData) error {
	e.mapLen(2)
	e.str(fRequestID)
	e.str(d.RequestID)
	e.str(fSockets)
	_ = e.EncodeArrayLen(len(d.Sockets))
	for i := range d.Sockets {
		s := &d.Sockets[i]
		h := &s.Handshake
		e.mapLen(4)
		e.str(fID)
		e.str(s.ID)
		e.str(fHandshake)
		e.mapLen(9)
		e.str(fHeaders)
		e.multi(h.Headers)
		e.str(fTime)
		e.str(h.Time)
		e.str(fAddress)
		e.str(h.Address)
		e.str(fXDom)
		e.boolean(h.XDomain)
		e.str(fSecure)
		e.boolean(h.Secure)
		e.str(fIssued)
		e.int(h.Issued)
		e.str(fURL)
		e.str(h.URL)
		e.str(fQuery)
		e.multi(h.Query)
		e.str(fAuth)
		if err := e.value(h.Auth); err != nil {
			return err
		}
		e.str(fRooms)
		e.strs(s.Rooms)
		e.str(fData)
		if err := e.value(s.Data); err != nil {
			return err
		}
	}
	return nil
}

func (e encoder) serverSideEmit(d *ServerSideEmitData) error {
	n := 1
	if d.RequestID != "" {
		n++
	}
	e.mapLen(n)
	if d.RequestID != "" {
		e.str(fRequestID)
		e.str(d.RequestID)
	}
	e.str(fPacket)
	if d.Packet == nil {
		return e.value([]any{})
	}
	return e.value(d.Packet)
}

func (e encoder) response(id string, packet any, args []any) error {
	n := 2
	if args != nil {
		n = 3
	}
	e.mapLen(n)
	e.str(fRequestID)
	e.str(id)
	e.str(fPacket)
	if err := e.value(packet); err != nil {
		return err
	}
	if args != nil {
		e.str(fArgs)
		return e.value(args)
	}
	return nil
}

func (e encoder) clientCount(d *BroadcastClientCountData) error {
	e.mapLen(2)
	e.str(fRequestID)
	e.str(d.RequestID)
	e.str(fClientCount)
	e.int(d.ClientCount)
	return nil
}
