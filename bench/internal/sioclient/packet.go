package sioclient

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
)

// Engine.IO packet types.
const (
	eioOpen    = '0'
	eioClose   = '1'
	eioPing    = '2'
	eioPong    = '3'
	eioMessage = '4'
	eioNoop    = '6'
)

// Socket.IO packet types (after the Engine.IO message byte).
const (
	sioConnect      = '0'
	sioDisconnect   = '1'
	sioEvent        = '2'
	sioAck          = '3'
	sioConnectError = '4'
)

// recordSeparator separates Engine.IO packets in a polling payload.
const recordSeparator = 0x1e

var (
	// ErrClosed is returned by calls on a closed client.
	ErrClosed = errors.New("sioclient: client closed")
	// ErrConnectRefused is returned when the server answers CONNECT with
	// CONNECT_ERROR.
	ErrConnectRefused = errors.New("sioclient: connect refused")
)

// tickPrefix starts every "tick" event.
var tickPrefix = []byte(`42["tick"`)

// AckFunc receives the raw JSON array of an ack's arguments, e.g.
// ["hello"]. The slice is only valid during the call.
type AckFunc func(args []byte)

// Options configures a client. The zero value counts nothing.
type Options struct {
	// Ticks, if not nil, is incremented once per "tick" event received.
	// Clients may share one counter.
	Ticks *atomic.Int64
	// OnTick, if not nil, is called once per "tick" event received, on
	// the client's reader goroutine.
	OnTick func()
}

// acks holds the pending ack callbacks of one client.
type acks struct {
	mu      sync.Mutex
	next    uint64
	pending map[uint64]AckFunc
}

// add registers fn and returns its id.
func (a *acks) add(fn AckFunc) uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	id := a.next
	a.next++
	if a.pending == nil {
		a.pending = make(map[uint64]AckFunc)
	}
	a.pending[id] = fn
	return id
}

// take removes and returns the callback of id.
func (a *acks) take(id uint64) AckFunc {
	a.mu.Lock()
	defer a.mu.Unlock()
	fn := a.pending[id]
	delete(a.pending, id)
	return fn
}

// Pending reports the acks still awaited.
func (a *acks) Pending() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.pending)
}

// appendEvent appends the Engine.IO message of a Socket.IO EVENT to dst:
// 42[id]["event",args...]. args is the JSON of the arguments separated by
// commas (may be empty); id < 0 asks for no ack.
func appendEvent(dst []byte, id int64, event string, args []byte) []byte {
	dst = append(dst, eioMessage, sioEvent)
	if id >= 0 {
		dst = strconv.AppendInt(dst, id, 10)
	}
	dst = append(dst, '[')
	dst = strconv.AppendQuote(dst, event)
	if len(args) > 0 {
		dst = append(dst, ',')
		dst = append(dst, args...)
	}
	return append(dst, ']')
}

// parseAck splits the Socket.IO part of an ACK ("3<id>[...]" without the
// Engine.IO byte) into its id and arguments.
func parseAck(p []byte) (uint64, []byte, error) {
	if len(p) < 2 || p[0] != sioAck {
		return 0, nil, fmt.Errorf("sioclient: not an ack: %.40q", p)
	}
	p = p[1:]
	// A namespace other than "/" would come first: "/nsp,"; we only use "/".
	i := 0
	for i < len(p) && p[i] >= '0' && p[i] <= '9' {
		i++
	}
	if i == 0 || i > 19 {
		return 0, nil, fmt.Errorf("sioclient: ack without a valid id: %.40q", p)
	}
	id, err := strconv.ParseUint(string(p[:i]), 10, 64)
	if err != nil {
		return 0, nil, fmt.Errorf("sioclient: ack id: %w", err)
	}
	return id, p[i:], nil
}

// handler is what both transports do with an incoming Engine.IO packet.
type handler struct {
	opts Options
	acks acks
}

// isTick reports whether the Engine.IO packet p is a "tick" event.
func isTick(p []byte) bool { return bytes.HasPrefix(p, tickPrefix) }

// message handles one Engine.IO "4" packet (p[0] == '4'). It returns an
// error for a DISCONNECT or a malformed ack.
func (h *handler) message(p []byte) error {
	if isTick(p) {
		if h.opts.Ticks != nil {
			h.opts.Ticks.Add(1)
		}
		if h.opts.OnTick != nil {
			h.opts.OnTick()
		}
		return nil
	}
	if len(p) < 2 {
		return nil
	}
	switch p[1] {
	case sioAck:
		id, args, err := parseAck(p[1:])
		if err != nil {
			return err
		}
		if fn := h.acks.take(id); fn != nil {
			fn(args)
		}
	case sioDisconnect:
		return fmt.Errorf("sioclient: disconnected by the server")
	}
	return nil
}
