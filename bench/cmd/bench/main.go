// Command bench is the side-by-side benchmark of gosio and the Node.js
// socket.io server: it builds bench/server, starts each server in turn on
// 127.0.0.1, drives every scenario against each with its own Socket.IO
// load generator (bench/internal/sioclient), alternating the servers
// between runs, and prints one table of medians, ranges and gosio/Node
// ratios, which it also writes, with the machine and versions, to
// bench/RESULTS.md. Run it from the repository root, as `make bench` does:
//
//	go run ./bench/cmd/bench [-runs 3] [-scenarios fanout,echo] [-servers gosio,node] [-quick] [-out bench/RESULTS.md]
//
// # Scenarios
//
//	fanout   1000 clients; one emits bench:broadcast {count: 1000, size: 32}:
//	         deliveries/s until all 1 000 000 ticks arrived; then 100
//	         clients × 10 000 ticks.
//	rooms    1000 clients in 10 rooms; 1000 ticks to one room (100 members).
//	echo     100 clients send bench:echo with an ack at 5000/s, then 20000/s
//	         in all, 10 s each, on a fixed schedule: round trips from the
//	         write of the event to the reading of its ack, p50, p90, p99,
//	         max; and, for context, how late the sends were (p99).
//	connect  10 000 WebSocket clients, 100 handshakes in flight: connections/s,
//	         server CPU per connection, server VmRSS per idle connection.
//	polling  200 HTTP long-polling clients echo in a closed loop for 5 s: acks/s.
//	cluster  3 servers (gosio on NATS: an embedded nats-server in a child
//	         process; Node on @socket.io/redis-adapter: redis-server), 1000
//	         clients spread over them; fan-out as above.
//
// -quick shortens every scenario (fewer ticks, 2 s of echo and polling,
// 2000 connections) and runs once: a smoke test, not a measurement.
//
// # Method
//
// Each scenario run gets freshly started servers. The server side (servers
// and broker) runs under `taskset -c 1`, the load generator re-executes
// itself under `taskset -c 0` (so Go's GOMAXPROCS is 1), when taskset is
// present and the machine has two cores or more. The server side's CPU
// time comes from /proc/<pid>/stat, the generator's from getrusage; when
// the whole machine was busier than both by more than 10 % of a core, the
// report says so. The advantage column is gosio/Node for rates and
// Node/gosio for latencies, CPU and memory: above 1, gosio is better.
//
// Echo round trips start when the event is written, not at its scheduled
// time: Go sleeps shorter than a millisecond wake up to a millisecond late
// (the runtime's epoll_wait takes milliseconds), a delay of the load
// generator that would swamp both servers' own. Sends never wait for the
// server (acks are asynchronous; only a full TCP buffer would block a
// write), so no coordinated omission hides in this: a server that fell
// behind would show in the round trips, and in the lateness row.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/gosio/gosio/adapter/nats/natsembed"
	"github.com/gosio/gosio/bench/internal/stats"
)

// pinnedEnv marks the re-executed, pinned generator.
const pinnedEnv = "GOSIO_BENCH_PINNED"

type config struct {
	scenarios []string
	runs      int
	servers   []string
	out       string
	quick     bool
}

func main() {
	var (
		scen     = flag.String("scenarios", "fanout,rooms,echo,connect,polling,cluster", "comma-separated scenarios to run")
		runs     = flag.Int("runs", 3, "runs of each scenario on each server")
		servers  = flag.String("servers", "gosio,node", "comma-separated servers: gosio, node")
		out      = flag.String("out", "bench/RESULTS.md", "Markdown report to write (empty: none)")
		quick    = flag.Bool("quick", false, "a short smoke run: scaled-down scenarios, one run")
		natsMode = flag.Bool("nats-child", false, "internal: run an embedded NATS server for the cluster scenario")
	)
	flag.Parse()
	if *natsMode {
		os.Exit(natsChild())
	}
	cfg := config{scenarios: split(*scen), runs: *runs, servers: split(*servers), out: *out, quick: *quick}
	if cfg.quick && !flagSet("runs") {
		cfg.runs = 1
	}
	pin := pinSelf()
	if err := run(cfg, pin); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func split(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// pinSelf re-executes the generator under `taskset -c 0` if it can (it
// does not return then) and returns the taskset prefix for the server
// side, or nil when nothing is pinned.
func pinSelf() []string {
	taskset, err := exec.LookPath("taskset")
	if err != nil || runtime.NumCPU() < 2 {
		if os.Getenv(pinnedEnv) == "" {
			return nil
		}
	}
	if os.Getenv(pinnedEnv) == "1" {
		return []string{"taskset", "-c", "1"}
	}
	self, err := os.Executable()
	if err != nil {
		return nil
	}
	argv := append([]string{"taskset", "-c", "0", self}, os.Args[1:]...)
	err = syscall.Exec(taskset, argv, append(os.Environ(), pinnedEnv+"=1"))
	fmt.Fprintf(os.Stderr, "bench: re-exec under taskset failed, running unpinned: %v\n", err)
	return nil
}

// raiseFileLimit raises RLIMIT_NOFILE to its hard limit; the servers
// inherit it.
func raiseFileLimit() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("getrlimit: %w", err)
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return lim.Cur, fmt.Errorf("setrlimit: %w", err)
	}
	return lim.Cur, nil
}

// natsChild runs an embedded NATS server on a free port of 127.0.0.1,
// prints "nats nats://127.0.0.1:<port>" and serves until SIGTERM.
func natsChild() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := natsembed.Start(&natsembed.Options{Addr: "127.0.0.1:0", MaxPayload: 8 << 20, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: nats:", err)
		return 1
	}
	fmt.Println("nats " + srv.ClientURL())
	<-ctx.Done()
	srv.Shutdown()
	return 0
}

// results gathers the measures of every run, in first-seen row order.
type results struct {
	order []string                        // row|metric keys
	rows  map[string]stats.Row            // by key, without numbers
	vals  map[string]map[string][]float64 // key → server → values
}

func (r *results) add(server string, m measure) {
	key := m.row + "|" + m.metric
	if _, ok := r.rows[key]; !ok {
		r.order = append(r.order, key)
		r.rows[key] = stats.Row{Scenario: m.row, Metric: m.metric, Better: m.better}
		r.vals[key] = map[string][]float64{}
	}
	r.vals[key][server] = append(r.vals[key][server], m.value)
}

func (r *results) table() []stats.Row {
	var out []stats.Row
	for _, k := range r.order {
		row := r.rows[k]
		row.Gosio = stats.Summarize(r.vals[k]["gosio"])
		row.Node = stats.Summarize(r.vals[k]["node"])
		out = append(out, row)
	}
	return out
}

func run(cfg config, pin []string) error {
	all := scenarios()
	var chosen []scenario
	for _, name := range cfg.scenarios {
		i := slices.IndexFunc(all, func(s scenario) bool { return s.name == name })
		if i < 0 {
			return fmt.Errorf("unknown scenario %q (have fanout, rooms, echo, connect, polling, cluster)", name)
		}
		chosen = append(chosen, all[i])
	}
	for _, s := range cfg.servers {
		if s != "gosio" && s != "node" {
			return fmt.Errorf("unknown server %q (have gosio, node)", s)
		}
	}
	if cfg.runs < 1 || len(chosen) == 0 || len(cfg.servers) == 0 {
		return fmt.Errorf("nothing to run")
	}
	var notes []string
	if pin == nil {
		notes = append(notes, "not pinned: taskset missing or fewer than 2 cores; server and load generator share the CPUs")
	}
	nofile, err := raiseFileLimit()
	if err != nil {
		notes = append(notes, "could not raise the file-descriptor limit: "+err.Error())
	}
	if nofile < 10000+1000 && slices.ContainsFunc(chosen, func(s scenario) bool { return s.name == "connect" }) {
		notes = append(notes, fmt.Sprintf("file-descriptor limit %d: 10 000 connections may not all open", nofile))
	}

	dir, err := os.MkdirTemp("", "gosio-bench-")
	if err != nil {
		return err
	}
	failures := 0
	defer func() {
		// The servers' logs of a failed run are what explains it.
		if failures == 0 {
			os.RemoveAll(dir)
		}
	}()
	self, err := os.Executable()
	if err != nil {
		return err
	}
	l := &launcher{dir: dir, self: self, pin: pin, nodeJS: filepath.Join("bench", "node", "server.js")}
	if slices.Contains(cfg.servers, "gosio") {
		l.gosioBin = filepath.Join(dir, "gosio-bench")
		build := exec.Command("go", "build", "-o", l.gosioBin, "./bench/server")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("go build ./bench/server: %w", err)
		}
	}
	if slices.Contains(cfg.servers, "node") {
		if _, err := os.Stat(l.nodeJS); err != nil {
			return fmt.Errorf("node server: %w (run make bench-deps)", err)
		}
		if _, err := os.Stat(filepath.Join("bench", "node", "node_modules")); err != nil {
			return fmt.Errorf("node server's packages: %w (run make bench-deps)", err)
		}
		if slices.ContainsFunc(chosen, func(s scenario) bool { return s.servers > 1 }) {
			if _, err := exec.LookPath("redis-server"); err != nil {
				return fmt.Errorf("the node cluster needs redis-server: %w", err)
			}
		}
	}

	res := &results{rows: map[string]stats.Row{}, vals: map[string]map[string][]float64{}}
	ctx := context.Background()
	started := time.Now()
	for r := range cfg.runs {
		order := slices.Clone(cfg.servers)
		if r%2 == 1 {
			slices.Reverse(order)
		}
		for _, sc := range chosen {
			for _, server := range order {
				label := fmt.Sprintf("run %d, %s, %s", r+1, sc.name, server)
				fmt.Fprintf(os.Stderr, "bench: %s …\n", label)
				t0 := time.Now()
				ms, err := runOne(ctx, l, sc, server, cfg.quick, &notes, label)
				for _, m := range ms {
					res.add(server, m)
				}
				if err != nil {
					failures++
					notes = append(notes, fmt.Sprintf("%s: FAILED: %v (server logs kept in %s)", label, err, dir))
					fmt.Fprintf(os.Stderr, "bench: %s FAILED: %v\n", label, err)
					continue
				}
				fmt.Fprintf(os.Stderr, "bench: %s done in %.1f s\n", label, time.Since(t0).Seconds())
			}
		}
	}
	elapsed := time.Since(started)
	table := stats.Table(res.table())
	fmt.Println()
	fmt.Print(table)
	fmt.Println()
	fmt.Println("(↑) higher is better, (↓) lower is better; gosio advantage = gosio/node for (↑), node/gosio for (↓): above 1, gosio is better.")
	for _, n := range notes {
		fmt.Println("note:", n)
	}
	fmt.Printf("%d runs of %d scenarios on %s in %.0f s\n", cfg.runs, len(chosen), strings.Join(cfg.servers, ", "), elapsed.Seconds())
	if cfg.out != "" {
		if err := writeReport(cfg, pin, table, notes, elapsed); err != nil {
			return err
		}
		fmt.Println("wrote", cfg.out)
	}
	if failures > 0 {
		return fmt.Errorf("%d scenario runs failed (see the notes)", failures)
	}
	return nil
}

// runOne starts the servers of one scenario run, runs it, and stops them.
func runOne(ctx context.Context, l *launcher, sc scenario, server string, quick bool, notes *[]string, label string) ([]measure, error) {
	d, err := l.start(ctx, server, sc.servers)
	if err != nil {
		return nil, err
	}
	e := &env{addrs: d.addrs(), pids: d.pids(), quick: quick, notes: notes, label: label}
	ms, err := sc.run(ctx, e)
	if serr := d.stop(); serr != nil && err == nil {
		*notes = append(*notes, label+": "+serr.Error())
	}
	return ms, err
}
