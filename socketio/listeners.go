package socketio

import "slices"

// Catch-all listeners (Node's onAny / onAnyOutgoing). Go functions
// cannot be compared, so OnAny and friends return a function that removes
// the listener they added; OffAny removes them all.

type anyListener struct{ fn func(ev *Event) }

type anyOutListener struct {
	fn func(event string, args []any)
}

// OnAny adds fn, called with every incoming event before its handlers (and
// before event middleware), and returns a function that removes it.
func (s *Socket) OnAny(fn func(ev *Event)) (remove func()) {
	l := &anyListener{fn: fn}
	s.mu.Lock()
	s.anyIn = append(s.anyIn, l)
	s.mu.Unlock()
	return func() { s.mu.Lock(); s.anyIn = deleteListener(s.anyIn, l); s.mu.Unlock() }
}

// PrependAny is [Socket.OnAny], adding fn before the other listeners.
func (s *Socket) PrependAny(fn func(ev *Event)) (remove func()) {
	l := &anyListener{fn: fn}
	s.mu.Lock()
	s.anyIn = append([]*anyListener{l}, s.anyIn...)
	s.mu.Unlock()
	return func() { s.mu.Lock(); s.anyIn = deleteListener(s.anyIn, l); s.mu.Unlock() }
}

// OffAny removes every listener added with OnAny and PrependAny.
func (s *Socket) OffAny() {
	s.mu.Lock()
	s.anyIn = nil
	s.mu.Unlock()
}

// OnAnyOutgoing adds fn, called with every event this socket emits (the
// Go values given to Emit), and returns a function that removes it.
// Broadcasts are not reported, as in Node.
func (s *Socket) OnAnyOutgoing(fn func(event string, args []any)) (remove func()) {
	l := &anyOutListener{fn: fn}
	s.mu.Lock()
	s.anyOut = append(s.anyOut, l)
	s.mu.Unlock()
	return func() { s.mu.Lock(); s.anyOut = deleteListener(s.anyOut, l); s.mu.Unlock() }
}

// PrependAnyOutgoing is [Socket.OnAnyOutgoing], adding fn first.
func (s *Socket) PrependAnyOutgoing(fn func(event string, args []any)) (remove func()) {
	l := &anyOutListener{fn: fn}
	s.mu.Lock()
	s.anyOut = append([]*anyOutListener{l}, s.anyOut...)
	s.mu.Unlock()
	return func() { s.mu.Lock(); s.anyOut = deleteListener(s.anyOut, l); s.mu.Unlock() }
}

// OffAnyOutgoing removes every outgoing catch-all listener.
func (s *Socket) OffAnyOutgoing() {
	s.mu.Lock()
	s.anyOut = nil
	s.mu.Unlock()
}

func (s *Socket) notifyOutgoing(event string, args []any) {
	s.mu.Lock()
	ls := slices.Clone(s.anyOut)
	s.mu.Unlock()
	for _, l := range ls {
		l.fn(event, args)
	}
}

func deleteListener[T comparable](ls []T, l T) []T {
	return slices.DeleteFunc(slices.Clone(ls), func(x T) bool { return x == l })
}
