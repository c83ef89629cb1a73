package memory

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"slices"
	"strconv"
	"time"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/socketio/parser"
)

// MaxStoredPackets bounds the packets kept for connection state recovery,
// on top of the namespace's recovery window: when more are broadcast
// within the window, the oldest are forgotten, and a client whose offset
// is among them starts a new session instead of recovering.
const MaxStoredPackets = 100_000

// The recovery store (Node's SessionAwareAdapter): sessions of
// disconnected sockets by pid, and the recent broadcast packets with
// their offsets. Both are purged as they are used, and by a timer (every
// window/2, between 1 s and 1 min) while the store holds anything, so an
// idle server frees them too; the timer is stopped on Close.
type recoveryStore struct {
	window   time.Duration
	timer    *time.Timer // armed while the store is not empty
	closed   bool
	prefix   string // random per adapter: offsets of another run are unknown
	next     uint64
	packets  []storedPacket
	sessions map[string]storedSession
}

type storedPacket struct {
	offset string
	at     time.Time
	rooms  []string
	except []string
	p      *parser.Packet
}

type storedSession struct {
	s  adapter.Session
	at time.Time // disconnection time
}

func newRecoveryStore(window time.Duration) *recoveryStore {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return &recoveryStore{
		window:   window,
		prefix:   base64.RawURLEncoding.EncodeToString(b[:]) + "-",
		sessions: make(map[string]storedSession),
	}
}

// recoverable reports whether a broadcast of p keeps an offset: events
// without ack that are not volatile (Node's rule).
func recoverable(p *parser.Packet, opts adapter.BroadcastOptions) bool {
	return (p.Type == parser.Event || p.Type == parser.BinaryEvent) && !p.HasID && !opts.Flags.Volatile
}

// store appends p's offset and keeps it; it returns the packet to send.
func (a *Adapter) store(p *parser.Packet, opts adapter.BroadcastOptions) *parser.Packet {
	a.recMu.Lock()
	defer a.recMu.Unlock()
	r := a.rec
	r.next++
	offset := r.prefix + strconv.FormatUint(r.next, 36)
	q := adapter.WithOffset(p, offset)
	now := time.Now()
	r.packets = append(r.packets, storedPacket{
		offset: offset, at: now,
		rooms: slices.Clone(opts.Rooms), except: slices.Clone(opts.Except), p: q,
	})
	r.purgePackets(now)
	a.armPurgeLocked()
	return q
}

// purgeEvery is how often the timer purges the store.
func (r *recoveryStore) purgeEvery() time.Duration {
	return min(max(r.window/2, time.Second), time.Minute)
}

// armPurgeLocked starts the purge timer if the store holds anything.
func (a *Adapter) armPurgeLocked() {
	r := a.rec
	if r.timer != nil || r.closed || len(r.packets) == 0 && len(r.sessions) == 0 {
		return
	}
	r.timer = time.AfterFunc(r.purgeEvery(), a.purgeTick)
}

func (a *Adapter) purgeTick() {
	a.recMu.Lock()
	defer a.recMu.Unlock()
	r := a.rec
	r.timer = nil
	now := time.Now()
	r.purgeSessions(now)
	r.purgePackets(now)
	a.armPurgeLocked()
}

// closeStore stops the purge timer and forgets everything.
func (a *Adapter) closeStore() {
	if a.rec == nil {
		return
	}
	a.recMu.Lock()
	defer a.recMu.Unlock()
	r := a.rec
	r.closed = true
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
	clear(r.sessions)
	clear(r.packets)
	r.packets = nil
}

func (r *recoveryStore) purgePackets(now time.Time) {
	drop := 0
	for drop < len(r.packets) && (len(r.packets)-drop > MaxStoredPackets || now.Sub(r.packets[drop].at) > r.window) {
		drop++
	}
	if drop > 0 {
		clear(r.packets[:drop])
		r.packets = r.packets[drop:]
	}
}

func (r *recoveryStore) purgeSessions(now time.Time) {
	for pid, s := range r.sessions {
		if now.Sub(s.at) > r.window {
			delete(r.sessions, pid)
		}
	}
}

// PersistSession implements [adapter.Adapter].
func (a *Adapter) PersistSession(s *adapter.Session) {
	if a.rec == nil {
		return
	}
	a.recMu.Lock()
	defer a.recMu.Unlock()
	now := time.Now()
	a.rec.purgeSessions(now)
	a.rec.sessions[s.PID] = storedSession{s: *s, at: now}
	a.armPurgeLocked()
}

// RestoreSession implements [adapter.Adapter].
func (a *Adapter) RestoreSession(_ context.Context, pid, offset string) (*adapter.Session, error) {
	if a.rec == nil {
		return nil, nil
	}
	a.recMu.Lock()
	defer a.recMu.Unlock()
	r := a.rec
	now := time.Now()
	r.purgeSessions(now)
	r.purgePackets(now)
	stored, ok := r.sessions[pid]
	if !ok {
		return nil, nil
	}
	i := slices.IndexFunc(r.packets, func(sp storedPacket) bool { return sp.offset == offset })
	if i < 0 {
		return nil, nil
	}
	delete(r.sessions, pid) // a session is restored once
	s := stored.s
	s.Rooms = slices.Clone(s.Rooms)
	for _, sp := range r.packets[i+1:] {
		if reaches(sp, s.Rooms) {
			s.MissedPackets = append(s.MissedPackets, sp.p)
		}
	}
	return &s, nil
}

// reaches reports whether a packet broadcast with sp's rooms and except
// reached a socket in rooms (Node's shouldIncludePacket).
func reaches(sp storedPacket, rooms []string) bool {
	included := len(sp.rooms) == 0
	for _, r := range rooms {
		if slices.Contains(sp.except, r) {
			return false
		}
		if !included && slices.Contains(sp.rooms, r) {
			included = true
		}
	}
	return included
}
