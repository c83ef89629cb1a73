package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosio/gosio/bench/internal/proc"
	"github.com/gosio/gosio/bench/internal/sioclient"
	"github.com/gosio/gosio/bench/internal/stats"
)

// tickSize is the length of every tick's string, as in the issue.
const tickSize = 32

// measure is one number of one scenario run.
type measure struct {
	row    string // scenario label, e.g. "fanout 1000×1000"
	metric string
	better stats.Better
	value  float64
}

// env is what a scenario run gets: the servers and the run's settings.
type env struct {
	addrs []string
	pids  []int // server side: servers and broker
	quick bool
	notes *[]string // disturbances and shortfalls, for the report
	label string    // "run 2, gosio" for notes
}

func (e *env) note(format string, args ...any) {
	*e.notes = append(*e.notes, e.label+": "+fmt.Sprintf(format, args...))
}

// window measures the CPU of the server side, of the load generator and
// of the whole machine over part of a scenario.
type window struct {
	e       *env
	start   time.Time
	servers time.Duration
	self    time.Duration
	sys     proc.System
}

// usage is what a window measured.
type usage struct {
	elapsed time.Duration
	servers time.Duration // CPU of the server side
	self    time.Duration // CPU of the load generator
}

func (e *env) serverCPU() time.Duration {
	var sum time.Duration
	for _, pid := range e.pids {
		d, err := proc.CPU(pid)
		if err == nil {
			sum += d
		}
	}
	return sum
}

func (e *env) begin() *window {
	w := &window{e: e, servers: e.serverCPU(), self: proc.SelfCPU()}
	w.sys, _ = proc.SystemCPU()
	w.start = time.Now()
	return w
}

// end closes the window, noting when other processes used more than 10 %
// of a core during it.
func (w *window) end(what string) usage {
	u := usage{elapsed: time.Since(w.start), servers: w.e.serverCPU() - w.servers, self: proc.SelfCPU() - w.self}
	if sys, err := proc.SystemCPU(); err == nil {
		other := (sys.Busy - w.sys.Busy) - u.servers - u.self
		// /proc counts in 10 ms ticks: allow two per process.
		slack := time.Duration(2*(len(w.e.pids)+2)) * 10 * time.Millisecond
		if other > u.elapsed/10+slack {
			w.e.note("%s: other processes used %.0f %% of a core (%.2f s CPU in %.2f s)",
				what, 100*other.Seconds()/u.elapsed.Seconds(), other.Seconds(), u.elapsed.Seconds())
		}
	}
	return u
}

// generatorRow is the load generator's CPU, for context: near 100 % it,
// not the server, capped the rate.
func generatorRow(row string, u usage) measure {
	return measure{row, "load generator CPU % of a core", stats.Info, 100 * u.self.Seconds() / u.elapsed.Seconds()}
}

// clients is a set of WebSocket clients.
type clients []*sioclient.Client

func (cs clients) close() {
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Go(func() { _ = c.Close() })
	}
	wg.Wait()
}

// broken returns the first client error, if a connection has ended.
func (cs clients) broken() error {
	for _, c := range cs {
		select {
		case <-c.Done():
			if err := c.Err(); err != nil {
				return err
			}
			return errors.New("connection closed")
		default:
		}
	}
	return nil
}

// connect opens n WebSocket clients, spread round-robin over addrs, with
// at most conc handshakes in flight. On error it returns the clients
// opened so far with the first error.
func connect(ctx context.Context, addrs []string, n, conc int, o sioclient.Options) (clients, int, error) {
	d := sioclient.NewDialer()
	out := make(clients, n)
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	failed := 0
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			c, err := sioclient.Dial(cctx, d, addrs[i%len(addrs)], o)
			if err != nil {
				mu.Lock()
				failed++
				if first == nil {
					first = err
				}
				mu.Unlock()
				return
			}
			out[i] = c
		})
	}
	wg.Wait()
	opened := slices.DeleteFunc(out, func(c *sioclient.Client) bool { return c == nil })
	return opened, failed, first
}

// ack emits with an ack and waits for it (timeout bounded).
func ack(c *sioclient.Client, event, args string, timeout time.Duration) (string, error) {
	got := make(chan string, 1)
	if err := c.EmitWithAck(event, []byte(args), func(a []byte) { got <- string(a) }); err != nil {
		return "", err
	}
	select {
	case a := <-got:
		return a, nil
	case <-c.Done():
		return "", fmt.Errorf("bench: connection lost waiting for the ack to %s: %w", event, c.Err())
	case <-time.After(timeout):
		return "", fmt.Errorf("bench: no ack to %s %s in %v", event, args, timeout)
	}
}

// waitTicks waits until ticks reaches want, failing when a client
// connection ends or timeout passes.
func waitTicks(ticks *atomic.Int64, want int64, cs clients, timeout time.Duration) error {
	end := time.Now().Add(timeout)
	for i := 0; ticks.Load() < want; i++ {
		if time.Now().After(end) {
			return fmt.Errorf("bench: %d of %d ticks after %v", ticks.Load(), want, timeout)
		}
		if i%100 == 0 {
			if err := cs.broken(); err != nil {
				return fmt.Errorf("bench: %d of %d ticks, a client lost its connection: %w", ticks.Load(), want, err)
			}
		}
		time.Sleep(time.Millisecond)
	}
	return nil
}

// fanoutRun connects n clients over e.addrs, warms up with one tick, then
// has client 0 emit event with payload (count ticks to want recipients)
// and measures until every tick arrived.
func fanoutRun(ctx context.Context, e *env, row string, n int, prepare func(clients) (event, payload func(count int) string, recipients int, err error), count int) ([]measure, error) {
	var ticks atomic.Int64
	cs, failed, err := connect(ctx, e.addrs, n, 100, sioclient.Options{Ticks: &ticks})
	defer cs.close()
	if err != nil {
		return nil, fmt.Errorf("bench: %d of %d clients failed to connect: %w", failed, n, err)
	}
	event, payload, recipients, err := prepare(cs)
	if err != nil {
		return nil, err
	}
	// Warm-up, and proof that every recipient is reachable (a cluster's
	// subscriptions are in place).
	if a, err := ack(cs[0], event(1), payload(1), 30*time.Second); err != nil || strings.Contains(a, "error") {
		return nil, fmt.Errorf("bench: warm-up %s: %q %v", event(1), a, err)
	}
	if err := waitTicks(&ticks, int64(recipients), cs, 30*time.Second); err != nil {
		return nil, fmt.Errorf("bench: warm-up: %w", err)
	}
	ticks.Store(0)
	want := int64(recipients) * int64(count)
	w := e.begin()
	if err := cs[0].EmitWithAck(event(count), []byte(payload(count)), func([]byte) {}); err != nil {
		return nil, err
	}
	if err := waitTicks(&ticks, want, cs, 5*time.Minute); err != nil {
		return nil, err
	}
	u := w.end(row)
	return []measure{
		{row, "deliveries/s", stats.Higher, float64(want) / u.elapsed.Seconds()},
		{row, "server CPU µs/delivery", stats.Lower, float64(u.servers.Microseconds()) / float64(want)},
		generatorRow(row, u),
	}, nil
}

func broadcastPayload(count int) string {
	return `{"count":` + strconv.Itoa(count) + `,"size":` + strconv.Itoa(tickSize) + `}`
}

// scenario is one line group of the table.
type scenario struct {
	name    string // for -scenarios
	servers int    // copies of the server (3: cluster)
	run     func(ctx context.Context, e *env) ([]measure, error)
}

func scenarios() []scenario {
	return []scenario{
		{"fanout", 1, runFanout},
		{"rooms", 1, runRooms},
		{"echo", 1, runEcho},
		{"connect", 1, runConnect},
		{"polling", 1, runPolling},
		{"cluster", 3, runCluster},
	}
}

func broadcast(recipients int) func(clients) (func(int) string, func(int) string, int, error) {
	return func(clients) (func(int) string, func(int) string, int, error) {
		return func(int) string { return "bench:broadcast" }, broadcastPayload, recipients, nil
	}
}

func runFanout(ctx context.Context, e *env) ([]measure, error) {
	big, small := 1000, 10000
	if e.quick {
		big, small = 100, 1000
	}
	m1, err := fanoutRun(ctx, e, fmt.Sprintf("fanout 1000 clients × %d", big), 1000, broadcast(1000), big)
	if err != nil {
		return m1, err
	}
	m2, err := fanoutRun(ctx, e, fmt.Sprintf("fanout 100 clients × %d", small), 100, broadcast(100), small)
	return append(m1, m2...), err
}

func runCluster(ctx context.Context, e *env) ([]measure, error) {
	count := 1000
	if e.quick {
		count = 100
	}
	return fanoutRun(ctx, e, fmt.Sprintf("cluster 3 servers, 1000 clients × %d", count), 1000, broadcast(1000), count)
}

func runRooms(ctx context.Context, e *env) ([]measure, error) {
	count := 1000
	if e.quick {
		count = 200
	}
	const n, rooms = 1000, 10
	join := func(cs clients) (func(int) string, func(int) string, int, error) {
		var wg sync.WaitGroup
		errs := make([]error, len(cs))
		sem := make(chan struct{}, 100)
		for i, c := range cs {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				r := strconv.Quote("room-" + strconv.Itoa(i%rooms))
				a, err := ack(c, "bench:join", r, 30*time.Second)
				if err == nil && a != "["+r+"]" {
					err = fmt.Errorf("bench:join %s acked %s", r, a)
				}
				errs[i] = err
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return nil, nil, 0, err
		}
		payload := func(count int) string {
			return `{"room":"room-0","count":` + strconv.Itoa(count) + `,"size":` + strconv.Itoa(tickSize) + `}`
		}
		return func(int) string { return "bench:room" }, payload, n / rooms, nil
	}
	return fanoutRun(ctx, e, fmt.Sprintf("rooms 1000 clients in 10, × %d to one", count), n, join, count)
}

// runEcho sends bench:echo with acks at fixed aggregate rates from 100
// clients. Each client sends on its own schedule (client i at i/rate +
// k·100/rate): the round trip is measured from the scheduled time, so a
// server that stalls the sender is charged for the wait (no coordinated
// omission).
func runEcho(ctx context.Context, e *env) ([]measure, error) {
	dur := 10 * time.Second
	if e.quick {
		dur = 2 * time.Second
	}
	const n = 100
	cs, failed, err := connect(ctx, e.addrs, n, 100, sioclient.Options{})
	defer cs.close()
	if err != nil {
		return nil, fmt.Errorf("bench: %d of %d clients failed to connect: %w", failed, n, err)
	}
	// Warm-up: one round trip each.
	for _, c := range cs {
		if _, err := ack(c, "bench:echo", `"warm-up"`, 30*time.Second); err != nil {
			return nil, err
		}
	}
	var out []measure
	for _, rate := range []int{5000, 20000} {
		row := fmt.Sprintf("echo %d/s", rate)
		interval := time.Duration(float64(time.Second) * n / float64(rate))
		lat := make([][]time.Duration, n)
		late := make([][]time.Duration, n) // send time - scheduled time
		var mus = make([]sync.Mutex, n)
		sent := make([]int, n)
		var wg sync.WaitGroup
		w := e.begin()
		t0 := time.Now().Add(10 * time.Millisecond)
		var sendErr atomic.Pointer[error]
		for i, c := range cs {
			wg.Go(func() {
				start := t0.Add(time.Duration(i) * time.Second / time.Duration(rate))
				for k := 0; ; k++ {
					at := start.Add(time.Duration(k) * interval)
					if at.Sub(t0) >= dur {
						return
					}
					if d := time.Until(at); d > 0 {
						time.Sleep(d)
					}
					sentAt := time.Now()
					late[i] = append(late[i], sentAt.Sub(at))
					err := c.EmitWithAck("bench:echo", []byte(`{"t":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}`), func([]byte) {
						rt := time.Since(sentAt)
						mus[i].Lock()
						lat[i] = append(lat[i], rt)
						mus[i].Unlock()
					})
					if err != nil {
						sendErr.CompareAndSwap(nil, &err)
						return
					}
					sent[i]++
				}
			})
		}
		wg.Wait()
		// The last acks.
		end := time.Now().Add(30 * time.Second)
		for time.Now().Before(end) {
			pending := 0
			for _, c := range cs {
				pending += c.PendingAcks()
			}
			if pending == 0 || cs.broken() != nil {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		u := w.end(row)
		if p := sendErr.Load(); p != nil {
			return out, fmt.Errorf("bench: %s: %w", row, *p)
		}
		var all, lateAll []time.Duration
		total := 0
		for i := range cs {
			mus[i].Lock()
			all = append(all, lat[i]...)
			mus[i].Unlock()
			lateAll = append(lateAll, late[i]...)
			total += sent[i]
		}
		if lost := total - len(all); lost > 0 {
			e.note("%s: %d of %d acks never came (not in the percentiles)", row, lost, total)
		}
		slices.Sort(all)
		slices.Sort(lateAll)
		ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
		out = append(out,
			measure{row, "p50 ms", stats.Lower, ms(stats.Percentile(all, 50))},
			measure{row, "p90 ms", stats.Lower, ms(stats.Percentile(all, 90))},
			measure{row, "p99 ms", stats.Lower, ms(stats.Percentile(all, 99))},
			measure{row, "max ms", stats.Lower, ms(stats.Percentile(all, 100))},
			measure{row, "server CPU µs/echo", stats.Lower, float64(u.servers.Microseconds()) / float64(max(len(all), 1))},
			measure{row, "send lateness p99 ms", stats.Info, ms(stats.Percentile(lateAll, 99))},
			generatorRow(row, u),
		)
	}
	return out, nil
}

// runConnect opens 10 000 WebSocket clients, 100 handshakes at a time, and
// measures the rate, the server CPU per connection, and the server's
// resident memory per idle connection (VmRSS after they are all idle for
// a second, minus VmRSS before the first).
func runConnect(ctx context.Context, e *env) ([]measure, error) {
	n := 10000
	if e.quick {
		n = 2000
	}
	row := fmt.Sprintf("connect %d", n)
	pid := e.pids[0]
	rss0, err := proc.RSS(pid)
	if err != nil {
		return nil, err
	}
	w := e.begin()
	cs, _, err := connect(ctx, e.addrs, n, 100, sioclient.Options{})
	u := w.end(row)
	defer cs.close()
	if err != nil {
		e.note("%s: only %d of %d connections opened; first error: %v", row, len(cs), n, err)
		if len(cs) == 0 {
			return nil, err
		}
	}
	time.Sleep(time.Second) // let both runtimes settle (GC, buffers returned)
	if err := cs.broken(); err != nil {
		return nil, fmt.Errorf("bench: an idle connection ended: %w", err)
	}
	rss1, err := proc.RSS(pid)
	if err != nil {
		return nil, err
	}
	k := float64(len(cs))
	return []measure{
		{row, "connections/s", stats.Higher, k / u.elapsed.Seconds()},
		{row, "server CPU µs/connection", stats.Lower, float64(u.servers.Microseconds()) / k},
		{row, "server RSS KB/idle connection", stats.Lower, float64(rss1-rss0) / 1024 / k},
		generatorRow(row, u),
	}, nil
}

// runPolling has 200 polling-only clients each send bench:echo with an ack
// and wait for it, over and over, for 5 s.
func runPolling(ctx context.Context, e *env) ([]measure, error) {
	dur := 5 * time.Second
	if e.quick {
		dur = 2 * time.Second
	}
	const n = 200
	row := "polling 200 clients echo"
	hc := sioclient.NewHTTPClient(n)
	defer hc.CloseIdleConnections()
	cs := make([]*sioclient.PollingClient, n)
	defer func() {
		var wg sync.WaitGroup
		for _, c := range cs {
			if c != nil {
				wg.Go(func() { _ = c.Close() })
			}
		}
		wg.Wait()
	}()
	{
		var wg sync.WaitGroup
		errs := make([]error, n)
		sem := make(chan struct{}, 50)
		for i := range cs {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				defer cancel()
				cs[i], errs[i] = sioclient.DialPolling(cctx, hc, e.addrs[0], sioclient.Options{})
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return nil, err
		}
	}
	var acks atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, n)
	w := e.begin()
	stop := time.Now().Add(dur)
	for i, c := range cs {
		wg.Go(func() {
			got := make(chan struct{}, 1)
			for time.Now().Before(stop) {
				if err := c.EmitWithAck("bench:echo", []byte(`{"t":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}`), func([]byte) { got <- struct{}{} }); err != nil {
					errs[i] = err
					return
				}
				select {
				case <-got:
					acks.Add(1)
				case <-c.Done():
					errs[i] = fmt.Errorf("bench: polling client ended: %w", c.Err())
					return
				case <-time.After(30 * time.Second):
					errs[i] = errors.New("bench: polling ack not received in 30 s")
					return
				}
			}
		})
	}
	wg.Wait()
	u := w.end(row)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	a := acks.Load()
	return []measure{
		{row, "acks/s", stats.Higher, float64(a) / u.elapsed.Seconds()},
		{row, "server CPU µs/ack", stats.Lower, float64(u.servers.Microseconds()) / float64(max(a, 1))},
		generatorRow(row, u),
	}, nil
}
