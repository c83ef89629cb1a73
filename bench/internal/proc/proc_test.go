package proc

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseStat(t *testing.T) {
	// Field 2 with spaces and a ')' inside; utime 150, stime 50 ticks.
	stat := "1234 (a) b (c)) S 1 1234 1234 0 -1 4194560 100 0 0 0 150 50 0 0 20 0 3 0 100 1000 200\n"
	d, err := parseStat([]byte(stat))
	require.NoError(t, err)
	assert.Equal(t, 2*time.Second, d)
	_, err = parseStat([]byte("1 (x) S 1 2"))
	assert.True(t, errors.Is(err, ErrFormat))
}

func TestParseSchedstat(t *testing.T) {
	d, err := parseSchedstat([]byte("85950472 8389669 228\n"))
	require.NoError(t, err)
	assert.Equal(t, 85950472*time.Nanosecond, d)
	_, err = parseSchedstat([]byte("1 2"))
	assert.True(t, errors.Is(err, ErrFormat))
}

// CPU and StatCPU agree within the ticks' resolution.
func TestCPUAgrees(t *testing.T) {
	a, err := CPU(os.Getpid())
	require.NoError(t, err)
	b, err := StatCPU(os.Getpid())
	require.NoError(t, err)
	c, err := CPU(os.Getpid())
	require.NoError(t, err)
	assert.InDelta(t, b.Seconds(), a.Seconds(), 0.5, "schedstat %v, stat %v", a, b)
	assert.GreaterOrEqual(t, c, a)
}

func TestParseRSS(t *testing.T) {
	n, err := parseRSS([]byte("Name:\tx\nVmHWM:\t 9 kB\nVmRSS:\t    1536 kB\nThreads: 3\n"))
	require.NoError(t, err)
	assert.EqualValues(t, 1536*1024, n)
	_, err = parseRSS([]byte("Name:\tx\n"))
	assert.True(t, errors.Is(err, ErrFormat))
}

func TestParseSystem(t *testing.T) {
	s, err := parseSystem([]byte("cpu  100 1 20 500 5 2 3 4 0 0\ncpu0 1 2 3\n"))
	require.NoError(t, err)
	assert.Equal(t, 1300*time.Millisecond, s.Busy)
	assert.Equal(t, 6350*time.Millisecond, s.Total)
	_, err = parseSystem([]byte("intr 1 2"))
	assert.True(t, errors.Is(err, ErrFormat))
}

// The real files of this process parse, and CPU time grows with work.
func TestSelf(t *testing.T) {
	rss, err := RSS(os.Getpid())
	require.NoError(t, err)
	assert.Greater(t, rss, int64(1<<20))
	before, err := CPU(os.Getpid())
	require.NoError(t, err)
	self0 := SelfCPU()
	sys0, err := SystemCPU()
	require.NoError(t, err)
	x := 0
	for i := 0; SelfCPU()-self0 < 50*time.Millisecond && i < 1e10; i++ {
		x += i
	}
	_ = x
	end := time.Now().Add(10 * time.Second)
	var after time.Duration
	for after <= before && time.Now().Before(end) {
		after, err = CPU(os.Getpid())
		require.NoError(t, err)
	}
	assert.Greater(t, after, before)
	sys1, err := SystemCPU()
	require.NoError(t, err)
	assert.Greater(t, sys1.Busy, sys0.Busy)
	assert.GreaterOrEqual(t, sys1.Total-sys0.Total, sys1.Busy-sys0.Busy)
}
