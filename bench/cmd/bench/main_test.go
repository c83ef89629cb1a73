package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/gosio/bench/internal/stats"
	"github.com/gosio/gosio/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

func TestListeningRe(t *testing.T) {
	for line, want := range map[string]string{
		`time=2026-11-22T07:00:00Z level=INFO msg=listening addr=127.0.0.1:3000`: "127.0.0.1:3000",
		`listening 127.0.0.1:41234`:               "127.0.0.1:41234",
		`nats nats://127.0.0.1:4222`:              "127.0.0.1:4222",
		`listening 0.0.0.0:3000`:                  "",
		`level=INFO msg="using the NATS adapter"`: "",
		`xlistening 127.0.0.1:3000`:               "",
	} {
		m := listeningRe.FindStringSubmatch(line)
		if want == "" {
			assert.Nil(t, m, line)
			continue
		}
		require.NotNil(t, m, line)
		assert.Equal(t, want, m[1])
	}
}

func TestLockVersions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "package-lock.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"lockfileVersion":3,"packages":{"":{"name":"x"},
		"node_modules/socket.io":{"version":"4.8.4"},
		"node_modules/@socket.io/redis-adapter":{"version":"8.3.0"}}}`), 0o644))
	sio, ad := lockVersions(path)
	assert.Equal(t, "4.8.4", sio)
	assert.Equal(t, "8.3.0", ad)
	sio, ad = lockVersions(filepath.Join(t.TempDir(), "missing.json"))
	assert.Equal(t, "unknown", sio)
	assert.Equal(t, "unknown", ad)
}

func TestResults(t *testing.T) {
	r := &results{rows: map[string]stats.Row{}, vals: map[string]map[string][]float64{}}
	r.add("gosio", measure{"fanout", "deliveries/s", stats.Higher, 10})
	r.add("node", measure{"fanout", "deliveries/s", stats.Higher, 1})
	r.add("gosio", measure{"echo", "p99 ms", stats.Lower, 1})
	r.add("gosio", measure{"fanout", "deliveries/s", stats.Higher, 30})
	r.add("gosio", measure{"fanout", "deliveries/s", stats.Higher, 20})
	rows := r.table()
	require.Len(t, rows, 2)
	assert.Equal(t, "fanout", rows[0].Scenario, "first-seen order")
	assert.Equal(t, stats.Summary{Median: 20, Min: 10, Max: 30, N: 3}, rows[0].Gosio)
	assert.Equal(t, 1, rows[0].Node.N)
	assert.Equal(t, 0, rows[1].Node.N)
}

// A child process's listening line gives its address; stop ends it with
// SIGTERM.
func TestStartProcess(t *testing.T) {
	sh, err := exec.LookPath("sh")
	require.NoError(t, err)
	dir := t.TempDir()
	p, err := startProcess(dir, "fake", nil, []string{sh, "-c", `echo starting >&2; echo "listening 127.0.0.1:$PORT"; exec sleep 60`}, []string{"PORT=4321"}, true)
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:4321", p.addr)
	assert.NoError(t, p.stop())
	log, err := os.ReadFile(p.log)
	require.NoError(t, err)
	assert.Contains(t, string(log), "starting")

	_, err = startProcess(dir, "quitter", nil, []string{sh, "-c", "echo no; exit 3"}, nil, true)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "exited before listening")
}

// The gosio bench server, built and started as make bench does, answers
// the fan-out scenario with every tick (bench/server's package main cannot
// be imported: the test builds it).
func TestFanoutAgainstBenchServer(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "gosio-bench")
	out, err := exec.Command("go", "build", "-o", bin, "../../server").CombinedOutput()
	require.NoError(t, err, "%s", out)
	l := &launcher{dir: dir, gosioBin: bin}
	ctx := context.Background()
	d, err := l.start(ctx, "gosio", 1)
	require.NoError(t, err)
	defer func() { assert.NoError(t, d.stop()) }()
	var notes []string
	e := &env{addrs: d.addrs(), pids: d.pids(), quick: true, notes: &notes, label: "test"}
	ms, err := fanoutRun(ctx, e, "fanout test", 20, broadcast(20), 50)
	require.NoError(t, err)
	require.Len(t, ms, 3)
	assert.Equal(t, "deliveries/s", ms[0].metric)
	assert.Greater(t, ms[0].value, 0.0)
	assert.GreaterOrEqual(t, ms[1].value, 0.0, "CPU per delivery")
	for _, n := range notes {
		assert.False(t, strings.Contains(n, "FAILED"), n)
	}
}
