package socketio

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/socketio/parser"
)

// BroadcastOperator selects sockets of a namespace and acts on them
// (Node's BroadcastOperator). It is an immutable value: every modifier
// returns a new operator and never changes the one it is called on, so
// operators can be shared and reused freely.
type BroadcastOperator struct {
	ns     *Namespace
	rooms  []string
	except []string
	flags  adapter.Flags
}

// To returns an operator that also reaches the sockets in rooms.
func (b BroadcastOperator) To(rooms ...string) BroadcastOperator {
	b.rooms = append(slices.Clip(b.rooms), rooms...)
	return b
}

// In is an alias of To.
func (b BroadcastOperator) In(rooms ...string) BroadcastOperator { return b.To(rooms...) }

// Except returns an operator that skips the sockets in rooms.
func (b BroadcastOperator) Except(rooms ...string) BroadcastOperator {
	b.except = append(slices.Clip(b.except), rooms...)
	return b
}

// Local returns an operator limited to this server.
func (b BroadcastOperator) Local() BroadcastOperator { b.flags.Local = true; return b }

// Volatile returns an operator whose events may be dropped by sockets not
// ready to receive them.
func (b BroadcastOperator) Volatile() BroadcastOperator { b.flags.Volatile = true; return b }

// Compress returns an operator that compresses (the default) or not.
func (b BroadcastOperator) Compress(compress bool) BroadcastOperator {
	b.flags.NoCompress = !compress
	return b
}

// Timeout returns an operator whose EmitWithAck gives up after d.
func (b BroadcastOperator) Timeout(d time.Duration) BroadcastOperator {
	b.flags.Timeout = d
	return b
}

func (b BroadcastOperator) options() adapter.BroadcastOptions {
	return adapter.BroadcastOptions{Rooms: b.rooms, Except: b.except, Flags: b.flags}
}

// eventPacket builds the EVENT (or BINARY_EVENT) packet of an emit,
// refusing reserved names; every emit path goes through it.
func eventPacket(nsp, event string, args []any) (*parser.Packet, error) {
	if parser.IsReserved(event) {
		return nil, fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	data, atts, err := parser.MarshalEvent(event, args)
	if err != nil {
		return nil, fmt.Errorf("socketio: emit %q: %w", event, err)
	}
	p := &parser.Packet{Type: parser.Event, Namespace: nsp, Data: data, Attachments: atts}
	if len(atts) > 0 {
		p.Type = parser.BinaryEvent
	}
	return p, nil
}

// Emit sends an event to the selected sockets. The packet is encoded once
// whatever the number of recipients; it never blocks on a slow client.
func (b BroadcastOperator) Emit(event string, args ...any) error {
	p, err := eventPacket(b.ns.name, event, args)
	if err != nil {
		return err
	}
	return b.ns.adapter.Broadcast(p, b.options())
}

// EmitWithAck sends an event to the selected sockets and waits for one
// ack from each, on every server, until ctx is done or the operator's
// Timeout passes. Then it returns the acks that arrived and a
// *PartialError.
func (b BroadcastOperator) EmitWithAck(ctx context.Context, event string, args ...any) ([]*AckResponse, error) {
	// The adapter drops the ack registrations (here and on the other
	// servers) when ctx ends: it ends when EmitWithAck returns.
	var cancel context.CancelFunc
	if b.flags.Timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, b.flags.Timeout)
	} else {
		ctx, cancel = context.WithCancel(ctx)
	}
	defer cancel()
	p, err := eventPacket(b.ns.name, event, args)
	if err != nil {
		return nil, err
	}
	p.ID, p.HasID = b.ns.nextAckID(), true

	var (
		mu              sync.Mutex
		responses       []*AckResponse
		expectedClients int
		reportedServers int
		expectedServers = -1
		done            = make(chan struct{})
		finished        bool
	)
	check := func() { // mu held
		if !finished && expectedServers >= 0 && reportedServers >= expectedServers && len(responses) >= expectedClients {
			finished = true
			close(done)
		}
	}
	onCount := func(n int) {
		mu.Lock()
		expectedClients += n
		reportedServers++
		check()
		mu.Unlock()
	}
	onAck := func(ack *parser.Packet) {
		r, err := newAckResponse(ack.Data, ack.Attachments)
		if err != nil {
			return
		}
		mu.Lock()
		if !finished {
			responses = append(responses, r)
			check()
		}
		mu.Unlock()
	}
	if err := b.ns.adapter.BroadcastWithAck(ctx, p, b.options(), onCount, onAck); err != nil {
		return nil, err
	}
	servers := 1 // a Local broadcast is counted by this server alone
	if !b.flags.Local {
		var err error
		if servers, err = b.ns.adapter.ServerCount(ctx); err != nil {
			return nil, err
		}
	}
	mu.Lock()
	expectedServers = servers
	check()
	mu.Unlock()

	select {
	case <-done:
		mu.Lock()
		defer mu.Unlock()
		return responses, nil
	case <-ctx.Done():
		mu.Lock()
		defer mu.Unlock()
		finished = true
		return slices.Clone(responses), &PartialError{Expected: expectedClients, Received: len(responses), Err: ctx.Err()}
	}
}

// SocketsJoin makes the selected sockets join rooms.
func (b BroadcastOperator) SocketsJoin(rooms ...string) error {
	return b.ns.adapter.AddSockets(b.options(), rooms)
}

// SocketsLeave makes the selected sockets leave rooms.
func (b BroadcastOperator) SocketsLeave(rooms ...string) error {
	return b.ns.adapter.DelSockets(b.options(), rooms)
}

// DisconnectSockets disconnects the selected sockets, closing their
// connections if close is true.
func (b BroadcastOperator) DisconnectSockets(close bool) error {
	return b.ns.adapter.DisconnectSockets(b.options(), close)
}

// FetchSockets returns the selected sockets, on every server.
func (b BroadcastOperator) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	infos, err := b.ns.adapter.FetchSockets(ctx, b.options())
	out := make([]*RemoteSocket, len(infos))
	for i, info := range infos {
		out[i] = &RemoteSocket{ID: info.ID, Handshake: info.Handshake, Rooms: info.Rooms, data: info.Data, ns: b.ns}
	}
	return out, err
}

// RemoteSocket is a snapshot of a socket that may be connected to another
// server (fetchSockets); its methods act on the live socket wherever it is.
type RemoteSocket struct {
	ID        string
	Handshake Handshake
	Rooms     []string
	data      jsontext.Value
	ns        *Namespace
}

// Data decodes the socket's data (Socket.SetData) into dst.
func (r *RemoteSocket) Data(dst any) error { return parser.Unmarshal(r.data, nil, dst) }

// RawData returns the socket's data as JSON.
func (r *RemoteSocket) RawData() jsontext.Value { return r.data }

// Emit sends an event to the socket.
func (r *RemoteSocket) Emit(event string, args ...any) error {
	return r.ns.To(r.ID).Emit(event, args...)
}

// Join makes the socket join rooms.
func (r *RemoteSocket) Join(rooms ...string) error { return r.ns.In(r.ID).SocketsJoin(rooms...) }

// Leave makes the socket leave rooms.
func (r *RemoteSocket) Leave(rooms ...string) error { return r.ns.In(r.ID).SocketsLeave(rooms...) }

// Disconnect disconnects the socket, closing its connection if close.
func (r *RemoteSocket) Disconnect(close bool) error {
	return r.ns.In(r.ID).DisconnectSockets(close)
}
