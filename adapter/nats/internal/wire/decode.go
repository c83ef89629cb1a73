package wire

import (
	"bytes"
	"fmt"
	"math"

	"github.com/vmihailenco/msgpack/v5"
)

// Decode decodes a cluster message. Data holds the typed payload of the
// message type (see [Message]); unknown fields are ignored. Any error
// wraps [ErrInvalidMessage].
//
// Values of free form (packet data, socket data, handshake auth) are
// decoded as nil, bool, int64, uint64, float64, string, []byte (MessagePack
// bin), time.Time (timestamp extension), []any and [Object], which keeps
// the order of the map's keys (the first position and the last value of
// a repeated key, as Node's decoder).
func Decode(b []byte) (*Message, error) {
	m, err := decode(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidMessage, err)
	}
	return m, nil
}

func decode(b []byte) (*Message, error) {
	// Checked first: the library allocates as much as a declared length
	// says (make([]any, 0, n) for an array of 2^32-1 elements).
	if err := validate(b); err != nil {
		return nil, err
	}
	d := msgpack.GetDecoder()
	defer msgpack.PutDecoder(d)
	d.Reset(bytes.NewReader(b))
	v, err := decodeValue(d)
	if err != nil {
		return nil, err
	}
	env, ok := v.(Object)
	if !ok {
		return nil, fmt.Errorf("envelope is %s, not a map", kind(v))
	}
	var m Message
	if m.UID, err = reqString(env, fUID); err != nil {
		return nil, err
	}
	if m.NSP, err = reqString(env, fNSP); err != nil {
		return nil, err
	}
	t, err := reqInt(env, fType)
	if err != nil {
		return nil, err
	}
	m.Type = MessageType(t)
	if t < int64(InitialHeartbeat) || t > int64(maxType) {
		return nil, fmt.Errorf("unknown message type %d", t)
	}
	switch m.Type {
	case InitialHeartbeat, Heartbeat, AdapterClose:
		return &m, nil // data, if any, means nothing
	}
	data, err := reqMap(env, fData)
	if err != nil {
		return nil, err
	}
	if m.Data, err = decodeData(m.Type, data); err != nil {
		return nil, fmt.Errorf("%v data: %w", m.Type, err)
	}
	return &m, nil
}

func decodeData(t MessageType, data Object) (any, error) {
	switch t {
	case Broadcast:
		var d BroadcastData
		var err error
		if d.Opts, err = decodeOpts(data); err != nil {
			return nil, err
		}
		p, err := reqMap(data, fPacket)
		if err != nil {
			return nil, err
		}
		if d.Packet, err = decodePacket(p); err != nil {
			return nil, fmt.Errorf("packet: %w", err)
		}
		d.RequestID, err = optString(data, fRequestID)
		return &d, err
	case SocketsJoin, SocketsLeave:
		var d SocketsRoomsData
		var err error
		if d.Opts, err = decodeOpts(data); err != nil {
			return nil, err
		}
		d.Rooms, err = reqStrings(data, fRooms)
		return &d, err
	case DisconnectSockets:
		var d DisconnectSocketsData
		var err error
		if d.Opts, err = decodeOpts(data); err != nil {
			return nil, err
		}
		d.Close, err = optBool(data, fClose)
		return &d, err
	case FetchSockets:
		var d FetchSocketsData
		var err error
		if d.Opts, err = decodeOpts(data); err != nil {
			return nil, err
		}
		d.RequestID, err = reqString(data, fRequestID)
		return &d, err
	case FetchSocketsResponse:
		var d FetchSocketsResponseData
		var err error
		if d.RequestID, err = reqString(data, fRequestID); err != nil {
			return nil, err
		}
		list, err := reqArray(data, fSockets)
		if err != nil {
			return nil, err
		}
		d.Sockets = make([]Socket, len(list))
		for i, v := range list {
			s, ok := v.(Object)
			if !ok {
				return nil, fmt.Errorf("sockets[%d] is %s, not a map", i, kind(v))
			}
			if err := decodeSocket(s, &d.Sockets[i]); err != nil {
				return nil, fmt.Errorf("sockets[%d]: %w", i, err)
			}
		}
		return &d, nil
	case ServerSideEmit:
		var d ServerSideEmitData
		var err error
		if d.RequestID, err = optString(data, fRequestID); err != nil {
			return nil, err
		}
		d.Packet, err = reqArray(data, fPacket)
		return &d, err
	case ServerSideEmitResponse:
		var d ServerSideEmitResponseData
		var err error
		if d.RequestID, err = reqString(data, fRequestID); err != nil {
			return nil, err
		}
		d.Packet, _ = data.Get(fPacket) // any value, absent being undefined
		if d.Args, err = optArray(data, fArgs); err != nil {
			return nil, err
		}
		return &d, nil
	case BroadcastClientCount:
		var d BroadcastClientCountData
		var err error
		if d.RequestID, err = reqString(data, fRequestID); err != nil {
			return nil, err
		}
		if d.ClientCount, err = reqInt(data, fClientCount); err != nil {
			return nil, err
		}
		if d.ClientCount < 0 {
			return nil, fmt.Errorf("negative clientCount %d", d.ClientCount)
		}
		return &d, nil
	case BroadcastAck:
		var d BroadcastAckData
		var err error
		if d.RequestID, err = reqString(data, fRequestID); err != nil {
			return nil, err
		}
		d.Packet, _ = data.Get(fPacket)
		if d.Args, err = optArray(data, fArgs); err != nil {
			return nil, err
		}
		return &d, nil
	}
	return nil, fmt.Errorf("unknown message type %d", int(t))
}

// decodeOpts decodes data.opts. Node builds rooms and except with new Set(),
// which accepts undefined: absent or nil lists are empty.
func decodeOpts(data Object) (Opts, error) {
	var o Opts
	m, err := reqMap(data, fOpts)
	if err != nil {
		return o, err
	}
	if o.Rooms, err = optStrings(m, fRooms); err != nil {
		return o, fmt.Errorf("opts: %w", err)
	}
	if o.Except, err = optStrings(m, fExcept); err != nil {
		return o, fmt.Errorf("opts: %w", err)
	}
	f, err := optMap(m, fFlags)
	if err != nil || f == nil {
		return o, err
	}
	if o.Flags.Volatile, err = optBool(f, fVolatile); err != nil {
		return o, fmt.Errorf("opts.flags: %w", err)
	}
	if o.Flags.Local, err = optBool(f, fLocal); err != nil {
		return o, fmt.Errorf("opts.flags: %w", err)
	}
	if v, ok := f.Get(fCompress); ok && v != nil {
		b, ok := v.(bool)
		if !ok {
			return o, fmt.Errorf("opts.flags.compress is %s, not a bool", kind(v))
		}
		o.Flags.Compress = &b
	}
	if v, ok := f.Get(fTimeout); ok && v != nil {
		ms, ok := number(v)
		if !ok || ms < 0 || ms > float64(maxTimeout) {
			return o, fmt.Errorf("opts.flags.timeout is not a valid duration: %v", v)
		}
		o.Flags.Timeout = int64(ms)
	}
	return o, nil
}

func decodePacket(m Object) (WirePacket, error) {
	var p WirePacket
	t, err := reqInt(m, fType)
	if err != nil {
		return p, err
	}
	if t < 0 || t > 6 {
		return p, fmt.Errorf("unknown packet type %d", t)
	}
	p.Type = int(t)
	p.Data, _ = m.Get(fData)
	if p.Nsp, err = optString(m, fNSP); err != nil {
		return p, err
	}
	if v, ok := m.Get(fID); ok && v != nil {
		id, ok := integer(v)
		if !ok || id < 0 || id > maxAckID {
			return p, fmt.Errorf("id is not a valid ack id: %v", v)
		}
		p.ID, p.HasID = uint64(id), true
	}
	return p, nil
}

func decodeSocket(m Object, s *Socket) error {
	var err error
	if s.ID, err = reqString(m, fID); err != nil {
		return err
	}
	if s.Rooms, err = optStrings(m, fRooms); err != nil {
		return err
	}
	s.Data, _ = m.Get(fData)
	h, err := optMap(m, fHandshake)
	if err != nil || h == nil {
		return err
	}
	hs := &s.Handshake
	if hs.Headers, err = optMulti(h, fHeaders); err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	if hs.Query, err = optMulti(h, fQuery); err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{fTime, &hs.Time}, {fAddress, &hs.Address}, {fURL, &hs.URL}} {
		if *f.dst, err = optString(h, f.name); err != nil {
			return fmt.Errorf("handshake: %w", err)
		}
	}
	if hs.XDomain, err = optBool(h, fXDom); err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	if hs.Secure, err = optBool(h, fSecure); err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	if v, ok := h.Get(fIssued); ok && v != nil {
		n, ok := number(v)
		if !ok || n < math.MinInt64 || n >= math.MaxInt64 {
			return fmt.Errorf("handshake.issued is %s, not a number", kind(v))
		}
		hs.Issued = int64(n)
	}
	hs.Auth, _ = h.Get(fAuth)
	return nil
}

// maxAckID is 2^53-1, the largest ack id Socket.IO allows.
const maxAckID = 1<<53 - 1

// ------------------------------------------------------ field accessors

func kind(v any) string {
	if v == nil {
		return "nil"
	}
	return fmt.Sprintf("%T", v)
}

func missing(name string) error { return fmt.Errorf("missing field %q", name) }

func wrong(name string, v any, want string) error {
	return fmt.Errorf("field %q is %s, not %s", name, kind(v), want)
}

func reqString(m Object, name string) (string, error) {
	v, ok := m.Get(name)
	if !ok {
		return "", missing(name)
	}
	s, ok := v.(string)
	if !ok {
		return "", wrong(name, v, "a string")
	}
	return s, nil
}

func optString(m Object, name string) (string, error) {
	if v, ok := m.Get(name); !ok || v == nil {
		return "", nil
	}
	return reqString(m, name)
}

func optBool(m Object, name string) (bool, error) {
	v, ok := m.Get(name)
	if !ok || v == nil {
		return false, nil
	}
	b, ok := v.(bool)
	if !ok {
		return false, wrong(name, v, "a bool")
	}
	return b, nil
}

// integer returns v as an int64 when it is an integral number.
func integer(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case uint64:
		return int64(n), n <= math.MaxInt64
	case float64:
		if n == math.Trunc(n) && n >= math.MinInt64 && n < math.MaxInt64 {
			return int64(n), true
		}
	}
	return 0, false
}

// number returns v as a float64 when it is a number.
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case uint64:
		return float64(n), true
	case float64:
		return n, !math.IsNaN(n)
	}
	return 0, false
}

func reqInt(m Object, name string) (int64, error) {
	v, ok := m.Get(name)
	if !ok {
		return 0, missing(name)
	}
	n, ok := integer(v)
	if !ok {
		return 0, wrong(name, v, "an integer")
	}
	return n, nil
}

func reqMap(m Object, name string) (Object, error) {
	v, ok := m.Get(name)
	if !ok {
		return nil, missing(name)
	}
	r, ok := v.(Object)
	if !ok {
		return nil, wrong(name, v, "a map")
	}
	return r, nil
}

func optMap(m Object, name string) (Object, error) {
	if v, ok := m.Get(name); !ok || v == nil {
		return nil, nil
	}
	return reqMap(m, name)
}

func reqArray(m Object, name string) ([]any, error) {
	v, ok := m.Get(name)
	if !ok {
		return nil, missing(name)
	}
	a, ok := v.([]any)
	if !ok {
		return nil, wrong(name, v, "an array")
	}
	return a, nil
}

func optArray(m Object, name string) ([]any, error) {
	if _, ok := m.Get(name); !ok {
		return nil, nil
	}
	return reqArray(m, name)
}

func reqStrings(m Object, name string) ([]string, error) {
	if _, ok := m.Get(name); !ok {
		return nil, missing(name)
	}
	return optStrings(m, name)
}

func optStrings(m Object, name string) ([]string, error) {
	v, ok := m.Get(name)
	if !ok || v == nil {
		return nil, nil
	}
	a, ok := v.([]any)
	if !ok {
		return nil, wrong(name, v, "an array")
	}
	return strings(name, a)
}

func strings(name string, a []any) ([]string, error) {
	s := make([]string, len(a))
	for i, e := range a {
		var ok bool
		if s[i], ok = e.(string); !ok {
			return nil, fmt.Errorf("%s[%d] is %s, not a string", name, i, kind(e))
		}
	}
	return s, nil
}

// optMulti decodes a map of string or string-array values.
func optMulti(m Object, name string) (map[string][]string, error) {
	r, err := optMap(m, name)
	if err != nil || r == nil {
		return nil, err
	}
	out := make(map[string][]string, len(r))
	for _, mem := range r {
		k := mem.Key
		switch v := mem.Value.(type) {
		case string:
			out[k] = []string{v}
		case []any:
			s, err := strings(name+"."+k, v)
			if err != nil {
				return nil, err
			}
			out[k] = s
		case nil:
			// undefined header: skipped
		default:
			return nil, fmt.Errorf("%s.%s is %s, not a string or an array", name, k, kind(v))
		}
	}
	return out, nil
}
