package socketio

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"sync"
)

// A socket's packets are handled one at a time, in arrival order, on a
// goroutine that is not the connection's reader, so a slow handler never
// stalls heartbeats. The goroutine runs only while there is work (idle
// sockets hold none). The queue is bounded in tasks and bytes: when it is
// full the reader waits, which stops reading from the connection (TCP
// backpressure) instead of growing memory.
type taskQueue struct {
	mu      sync.Mutex
	space   *sync.Cond // signalled when a task leaves the queue or the queue closes
	tasks   []task
	bytes   int
	running bool
	closed  bool
}

type task struct {
	run  func()
	cost int
}

// Queue bounds. One task always fits in an empty queue, whatever its size.
const (
	maxQueuedTasks = 256
	maxQueuedBytes = 4 << 20
)

// enqueue adds t and starts the dispatcher if needed. With a non-nil
// stop, it blocks while the queue is full, until there is room or stop is
// done (the connection closed: a wedged handler must not pin the reader);
// it reports whether t was queued.
func (s *Socket) enqueue(t task, stop context.Context) bool {
	q := &s.queue
	q.mu.Lock()
	defer q.mu.Unlock()
	if stop != nil {
		full := func() bool {
			return len(q.tasks) > 0 && (len(q.tasks) >= maxQueuedTasks || q.bytes+t.cost > maxQueuedBytes)
		}
		if !q.closed && full() {
			// A cancelled context does not wake a sync.Cond by itself.
			wake := context.AfterFunc(stop, func() {
				q.mu.Lock()
				q.space.Broadcast()
				q.mu.Unlock()
			})
			defer wake()
			for !q.closed && full() {
				if stop.Err() != nil {
					return false
				}
				q.space.Wait()
			}
		}
	}
	if q.closed {
		return false
	}
	q.tasks = append(q.tasks, t)
	q.bytes += t.cost
	if !q.running {
		q.running = true
		s.startDispatcher()
	}
	return true
}

// startDispatcher starts the dispatcher goroutine without allocating.
func (s *Socket) startDispatcher() {
	s.ns.srv.wg.Add(1)
	go s.runDispatcher()
}

func (s *Socket) runDispatcher() {
	defer s.ns.srv.wg.Done()
	s.dispatchLoop()
}

func (s *Socket) dispatchLoop() {
	q := &s.queue
	for {
		q.mu.Lock()
		if len(q.tasks) == 0 {
			q.running = false
			q.tasks = nil // idle sockets keep no buffer
			q.mu.Unlock()
			return
		}
		t := q.tasks[0]
		q.tasks[0] = task{}
		q.tasks = q.tasks[1:]
		q.bytes -= t.cost
		q.space.Broadcast()
		q.mu.Unlock()
		t.run()
	}
}

// closeQueue stops accepting tasks (except the final one, added with
// force) and wakes waiting readers.
func (s *Socket) closeQueue() {
	q := &s.queue
	q.mu.Lock()
	q.closed = true
	q.space.Broadcast()
	q.mu.Unlock()
}

// enqueueFinal adds the last task of a socket, even to a closed queue.
func (s *Socket) enqueueFinal(run func()) {
	q := &s.queue
	q.mu.Lock()
	defer q.mu.Unlock()
	q.tasks = append(q.tasks, task{run: run})
	if !q.running {
		q.running = true
		s.startDispatcher()
	}
}

// serve runs h for ev, recovering a panic like net/http does: logged with
// its stack and reported, the socket goes on. A panic with
// http.ErrAbortHandler closes the connection silently.
func (s *Socket) serve(ctx context.Context, h EventHandler, ev *Event) {
	defer func() {
		if r := recover(); r != nil {
			if err, ok := r.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				s.Disconnect(true)
				return
			}
			s.log().Error("socketio: handler panic", "event", ev.name, "panic", r, "stack", string(debug.Stack()))
			s.ns.srv.reportError(s, fmt.Errorf("socketio: handler for %q panicked: %v", ev.name, r))
		}
	}()
	if err := h.ServeEvent(ctx, ev); err != nil {
		s.ns.srv.reportError(s, err)
	}
}
