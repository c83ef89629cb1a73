package stats

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestMedian(t *testing.T) {
	assert.True(t, math.IsNaN(Median(nil)))
	assert.Equal(t, 5.0, Median([]float64{5}))
	in := []float64{9, 1, 5}
	assert.Equal(t, 5.0, Median(in))
	assert.Equal(t, []float64{9, 1, 5}, in, "input untouched")
	assert.Equal(t, 2.5, Median([]float64{4, 1, 3, 2}))
}

func TestPercentile(t *testing.T) {
	var s []time.Duration
	for i := 1; i <= 100; i++ {
		s = append(s, time.Duration(i)*time.Millisecond)
	}
	assert.Equal(t, 50*time.Millisecond, Percentile(s, 50))
	assert.Equal(t, 90*time.Millisecond, Percentile(s, 90))
	assert.Equal(t, 99*time.Millisecond, Percentile(s, 99))
	assert.Equal(t, 100*time.Millisecond, Percentile(s, 100))
	assert.Equal(t, time.Millisecond, Percentile(s, 0.1))
	assert.Equal(t, time.Duration(0), Percentile(nil, 50))
	three := []time.Duration{1, 2, 3}
	assert.Equal(t, time.Duration(2), Percentile(three, 50))
	assert.Equal(t, time.Duration(3), Percentile(three, 99))
}

func TestSummarizeAndAdvantage(t *testing.T) {
	g := Summarize([]float64{300, 100, 200})
	assert.Equal(t, Summary{Median: 200, Min: 100, Max: 300, N: 3}, g)
	n := Summarize([]float64{50})
	a, ok := Advantage(Higher, g, n)
	assert.True(t, ok)
	assert.Equal(t, 4.0, a)
	a, ok = Advantage(Lower, g, n)
	assert.True(t, ok)
	assert.Equal(t, 0.25, a)
	_, ok = Advantage(Higher, g, Summary{})
	assert.False(t, ok)
	_, ok = Advantage(Higher, g, Summarize([]float64{0}))
	assert.False(t, ok)
}

func TestFormat(t *testing.T) {
	for v, want := range map[float64]string{
		0: "0", 1234567: "1.23 M", 0.0123: "0.0123", 45.6: "45.6", 9999: "9999",
		12345: "12.3 k", 2.5e9: "2.50 G", 1: "1.00", math.NaN(): "–",
	} {
		assert.Equal(t, want, Format(v), "%v", v)
	}
	assert.Equal(t, "–", FormatSummary(Summary{}))
	assert.Equal(t, "7.00", FormatSummary(Summarize([]float64{7})))
	assert.Equal(t, "2.00 [1.00–3.00]", FormatSummary(Summarize([]float64{1, 2, 3})))
}

func TestTable(t *testing.T) {
	out := Table([]Row{
		{Scenario: "fanout", Metric: "deliveries/s", Better: Higher, Gosio: Summarize([]float64{2e6, 1e6, 3e6}), Node: Summarize([]float64{1e5})},
		{Scenario: "echo 5000/s", Metric: "p99 ms", Better: Lower, Gosio: Summarize([]float64{0.5}), Node: Summarize([]float64{2})},
		{Scenario: "connect", Metric: "KB/conn", Better: Lower, Gosio: Summarize([]float64{9})},
	})
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	assert.Len(t, lines, 5)
	assert.Contains(t, lines[0], "gosio advantage")
	assert.Regexp(t, `^\| fanout +\| deliveries/s \(↑\) +\| +2\.00 M \[1\.00 M–3\.00 M\] \| +100 k \| +20\.0× \|$`, lines[2])
	assert.Regexp(t, `\| +0\.500 \| +2\.00 \| +4\.00× \|$`, lines[3])
	assert.Regexp(t, `\| +9\.00 \| +– \| +– \|$`, lines[4])
	for _, l := range lines {
		assert.Equal(t, len([]rune(lines[0])), len([]rune(l)), "aligned: %q", l)
	}
}
