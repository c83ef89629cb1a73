// Package stats holds the benchmark's statistics and its table: medians,
// ranges, percentiles, and the comparison table of the gosio and Node
// servers.
package stats

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Median returns the median of xs (the mean of the two middle values for
// an even count), NaN for none. xs is not modified.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Percentile returns the nearest-rank p-th percentile (0 < p ≤ 100) of
// sorted, which must be sorted ascending; 0 for none. The nearest rank
// is the smallest value with at least p % of the values at or below it,
// so Percentile(s, 100) is the maximum.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// Summary is the median and range of a metric's runs.
type Summary struct {
	Median, Min, Max float64
	N                int
}

// Summarize returns the summary of xs (N 0 for none).
func Summarize(xs []float64) Summary {
	if len(xs) == 0 {
		return Summary{}
	}
	return Summary{Median: Median(xs), Min: slices.Min(xs), Max: slices.Max(xs), N: len(xs)}
}

// Better says which direction of a metric is better.
type Better int

const (
	// Higher is better (throughput).
	Higher Better = iota
	// Lower is better (latency, CPU, memory).
	Lower
	// Info is neither: shown for context, with no advantage.
	Info
)

// Advantage returns how many times better gosio's median is than node's:
// gosio/node for Higher, node/gosio for Lower, so that above 1 means
// gosio is better. ok is false when either median is missing or the
// divisor is zero.
func Advantage(b Better, gosio, node Summary) (float64, bool) {
	if b == Info || gosio.N == 0 || node.N == 0 {
		return 0, false
	}
	num, den := gosio.Median, node.Median
	if b == Lower {
		num, den = den, num
	}
	if den == 0 || math.IsNaN(num) || math.IsNaN(den) {
		return 0, false
	}
	return num / den, true
}

// Format formats v with 3 significant digits (no exponent below 1e9),
// e.g. 1234567 → "1.23 M", 0.0123 → "0.0123", 45.6 → "45.6".
func Format(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	a := math.Abs(v)
	switch {
	case a >= 1e9:
		return trim(v/1e9) + " G"
	case a >= 1e6:
		return trim(v/1e6) + " M"
	case a >= 1e4:
		return trim(v/1e3) + " k"
	}
	return trim(v)
}

// trim formats v with 3 significant digits, without exponent.
func trim(v float64) string {
	if v == 0 {
		return "0"
	}
	digits := 3 - int(math.Floor(math.Log10(math.Abs(v)))) - 1
	digits = max(digits, 0)
	return fmt.Sprintf("%.*f", digits, v)
}

// FormatSummary formats s as "median [min–max]", or "–" for no runs; a
// single run has no range.
func FormatSummary(s Summary) string {
	if s.N == 0 {
		return "–"
	}
	if s.N == 1 {
		return Format(s.Median)
	}
	return fmt.Sprintf("%s [%s–%s]", Format(s.Median), Format(s.Min), Format(s.Max))
}

// Row is one line of the table: a metric of a scenario, measured on
// both servers.
type Row struct {
	Scenario string
	Metric   string // with its unit, e.g. "deliveries/s"
	Better   Better
	Gosio    Summary
	Node     Summary
}

// Table formats rows as a Markdown table with the columns scenario,
// metric, gosio, node and the advantage (×, above 1 is gosio better).
func Table(rows []Row) string {
	header := []string{"scenario", "metric", "gosio median [min–max]", "node median [min–max]", "gosio advantage"}
	cells := [][]string{header}
	for _, r := range rows {
		adv := "–"
		if a, ok := Advantage(r.Better, r.Gosio, r.Node); ok {
			adv = Format(a) + "×"
		}
		dir := ""
		switch r.Better {
		case Higher:
			dir = " (↑)"
		case Lower:
			dir = " (↓)"
		}
		cells = append(cells, []string{r.Scenario, r.Metric + dir, FormatSummary(r.Gosio), FormatSummary(r.Node), adv})
	}
	width := make([]int, len(header))
	for _, row := range cells {
		for i, c := range row {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	var b strings.Builder
	line := func(row []string) {
		b.WriteString("|")
		for i, c := range row {
			pad := width[i] - len([]rune(c))
			if i >= 2 { // numbers right-aligned
				b.WriteString(" " + strings.Repeat(" ", pad) + c + " |")
			} else {
				b.WriteString(" " + c + strings.Repeat(" ", pad) + " |")
			}
		}
		b.WriteString("\n")
	}
	line(cells[0])
	b.WriteString("|")
	for i, w := range width {
		if i >= 2 {
			b.WriteString(" " + strings.Repeat("-", w-1) + ": |")
		} else {
			b.WriteString(" " + strings.Repeat("-", w) + " |")
		}
	}
	b.WriteString("\n")
	for _, row := range cells[1:] {
		line(row)
	}
	return b.String()
}
