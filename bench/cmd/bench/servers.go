package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// startTimeout bounds the wait for a server's "listening" line.
const startTimeout = 20 * time.Second

// stopTimeout bounds a server's graceful exit after SIGTERM.
const stopTimeout = 15 * time.Second

// listeningRe matches the line a server prints once it accepts
// connections: gosio's slog line "level=INFO msg=listening
// addr=127.0.0.1:3000" on stderr, Node's "listening 127.0.0.1:3000" on
// stdout, and the NATS child's "nats nats://127.0.0.1:4222".
var listeningRe = regexp.MustCompile(`(?:msg=listening addr=|^listening |^nats nats://)(127\.0\.0\.1:\d+)\s*$`)

// process is a child process of the harness: a server or a broker.
type process struct {
	name string
	cmd  *exec.Cmd
	addr string // from its listening line, if it prints one
	log  string // file with its stdout and stderr
	wg   sync.WaitGroup
	exit chan struct{} // closed when it has exited
	err  error         // its exit status, once exit is closed
}

// pid is the process id (taskset execs the program: same pid).
func (p *process) pid() int { return p.cmd.Process.Pid }

// startProcess starts argv with env added to the harness's environment,
// pinned with pin (a taskset prefix, or nil), logging to a file in dir.
// With wantAddr it waits for the listening line and records its address.
func startProcess(dir, name string, pin, argv, env []string, wantAddr bool) (*process, error) {
	full := append(append([]string{}, pin...), argv...)
	cmd := exec.Command(full[0], full[1:]...)
	cmd.Env = append(os.Environ(), env...)
	logPath := filepath.Join(dir, name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return nil, fmt.Errorf("bench: %w", err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		logf.Close()
		return nil, fmt.Errorf("bench: %w", err)
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("bench: start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, log: logPath, exit: make(chan struct{})}
	addrc := make(chan string, 2)
	var lmu sync.Mutex
	scan := func(r io.Reader) {
		defer p.wg.Done()
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			lmu.Lock()
			fmt.Fprintln(logf, line)
			lmu.Unlock()
			if m := listeningRe.FindStringSubmatch(line); m != nil {
				select {
				case addrc <- m[1]:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, r)
	}
	p.wg.Add(2)
	go scan(stdout)
	go scan(stderr)
	go func() {
		p.wg.Wait() // the pipes first: Wait closes them
		p.err = cmd.Wait()
		logf.Close()
		close(p.exit)
	}()
	if !wantAddr {
		return p, nil
	}
	select {
	case p.addr = <-addrc:
		return p, nil
	case <-p.exit:
		return nil, fmt.Errorf("bench: %s exited before listening (%v); log: %s", name, p.err, logPath)
	case <-time.After(startTimeout):
		p.stop()
		return nil, fmt.Errorf("bench: %s not listening after %v; log: %s", name, startTimeout, logPath)
	}
}

// stop sends SIGTERM and waits for the exit, killing the process after
// stopTimeout. It reports an exit other than a clean one or by SIGTERM.
func (p *process) stop() error {
	select {
	case <-p.exit:
	default:
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exit:
		case <-time.After(stopTimeout):
			_ = p.cmd.Process.Kill()
			<-p.exit
			return fmt.Errorf("bench: %s killed: no exit %v after SIGTERM; log: %s", p.name, stopTimeout, p.log)
		}
	}
	var ee *exec.ExitError
	if p.err != nil && errors.As(p.err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGTERM {
			return nil
		}
		return fmt.Errorf("bench: %s: %w; log: %s", p.name, p.err, p.log)
	}
	return nil
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago
// (for redis-server, which cannot pick one itself).
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("bench: free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// waitDial waits until addr accepts TCP connections.
func waitDial(ctx context.Context, addr string, p *process) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c.Close()
		}
		select {
		case <-p.exit:
			return fmt.Errorf("bench: %s exited (%v); log: %s", p.name, p.err, p.log)
		case <-ctx.Done():
			return fmt.Errorf("bench: %s not accepting on %s: %w", p.name, addr, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// deployment is the servers of one scenario run, and the broker of a
// cluster.
type deployment struct {
	servers []*process
	broker  *process // NATS child or redis-server; nil for one server
}

// addrs lists the servers' addresses.
func (d *deployment) addrs() []string {
	a := make([]string, len(d.servers))
	for i, s := range d.servers {
		a[i] = s.addr
	}
	return a
}

// pids lists every process whose CPU counts as the server side.
func (d *deployment) pids() []int {
	var p []int
	for _, s := range d.servers {
		p = append(p, s.pid())
	}
	if d.broker != nil {
		p = append(p, d.broker.pid())
	}
	return p
}

// stop stops the servers, then the broker.
func (d *deployment) stop() error {
	var errs []error
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, s := range d.servers {
		wg.Go(func() {
			if err := s.stop(); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if d.broker != nil {
		if err := d.broker.stop(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// launcher starts the servers under test.
type launcher struct {
	dir      string   // temporary directory: binaries and logs
	gosioBin string   // built bench/server
	nodeJS   string   // bench/node/server.js
	self     string   // this executable, for the NATS child
	pin      []string // taskset prefix for the server side, or nil
	seq      int      // numbers the log files
}

// start starts n copies of server ("gosio" or "node"); n > 1 makes a
// cluster over a broker (NATS for gosio, redis for node).
func (l *launcher) start(ctx context.Context, server string, n int) (_ *deployment, err error) {
	l.seq++
	tag := fmt.Sprintf("%03d-%s", l.seq, server)
	d := &deployment{}
	defer func() {
		if err != nil {
			_ = d.stop()
		}
	}()
	var env []string
	if n > 1 {
		switch server {
		case "gosio":
			b, err := startProcess(l.dir, tag+"-nats", l.pin, []string{l.self, "-nats-child"}, nil, true)
			if err != nil {
				return nil, err
			}
			d.broker = b
			env = []string{"NATS_URL=nats://" + b.addr, "BENCH_NATS_PREFIX=bench" + strconv.Itoa(l.seq)}
		case "node":
			port, err := freePort()
			if err != nil {
				return nil, err
			}
			addr := "127.0.0.1:" + strconv.Itoa(port)
			b, err := startProcess(l.dir, tag+"-redis", l.pin, []string{"redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"}, nil, false)
			if err != nil {
				return nil, err
			}
			d.broker = b
			if err := waitDial(ctx, addr, b); err != nil {
				return nil, err
			}
			env = []string{"REDIS_URL=redis://" + addr}
		}
	}
	for i := range n {
		var argv []string
		switch server {
		case "gosio":
			argv = []string{l.gosioBin}
		case "node":
			argv = []string{"node", l.nodeJS}
		default:
			return nil, fmt.Errorf("bench: unknown server %q", server)
		}
		s, err := startProcess(l.dir, fmt.Sprintf("%s-%d", tag, i), l.pin, argv, append([]string{"PORT=0"}, env...), true)
		if err != nil {
			return nil, err
		}
		d.servers = append(d.servers, s)
	}
	return d, nil
}
