// Package proc reads what the benchmark measures from Linux's /proc: the
// CPU time and resident memory of a process, and the machine's total CPU
// time, to tell when other processes disturbed a run.
package proc

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTick is USER_HZ, the unit of /proc's CPU times: 100 on every Linux
// architecture Go supports.
const clockTick = 10 * time.Millisecond

// ErrFormat is returned for /proc contents that cannot be parsed.
var ErrFormat = errors.New("proc: unexpected format")

// CPU returns the CPU time process pid has used, all its threads
// included: the sum of the threads' run time in nanoseconds from
// /proc/<pid>/task/*/schedstat where the kernel has schedstats, else
// utime+stime of /proc/<pid>/stat (10 ms ticks). The sum misses threads
// that have exited, which the servers measured (Go's runtime, Node's
// libuv pool) keep: the nanoseconds matter more for runs of a second.
func CPU(pid int) (time.Duration, error) {
	if d, err := schedCPU(pid); err == nil {
		return d, nil
	}
	return StatCPU(pid)
}

// schedCPU sums the first field of /proc/<pid>/task/*/schedstat.
func schedCPU(pid int) (time.Duration, error) {
	dir := fmt.Sprintf("/proc/%d/task", pid)
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("proc: %w", err)
	}
	var sum time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(dir + "/" + t.Name() + "/schedstat")
		if err != nil {
			if errors.Is(err, os.ErrNotExist) { // the thread just exited
				continue
			}
			return 0, fmt.Errorf("proc: %w", err)
		}
		d, err := parseSchedstat(b)
		if err != nil {
			return 0, err
		}
		sum += d
	}
	return sum, nil
}

func parseSchedstat(b []byte) (time.Duration, error) {
	f := strings.Fields(string(b))
	if len(f) != 3 {
		return 0, fmt.Errorf("%w: schedstat %q", ErrFormat, b)
	}
	ns, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: schedstat %q", ErrFormat, b)
	}
	return time.Duration(ns), nil
}

// StatCPU returns utime+stime of /proc/<pid>/stat: every thread, exited
// ones included, in 10 ms ticks.
func StatCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("proc: %w", err)
	}
	return parseStat(b)
}

// parseStat reads utime+stime from the contents of /proc/<pid>/stat. The
// command name (field 2) may hold spaces and parentheses: fields are
// counted after its last ')'.
func parseStat(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("%w: stat without ')'", ErrFormat)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime is field 14, stime 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("%w: stat has %d fields", ErrFormat, len(f)+2)
	}
	u, err1 := strconv.ParseUint(f[11], 10, 64)
	s, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("%w: utime %q stime %q", ErrFormat, f[11], f[12])
	}
	return time.Duration(u+s) * clockTick, nil
}

// RSS returns the resident memory of process pid in bytes (VmRSS of
// /proc/<pid>/status).
func RSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("proc: %w", err)
	}
	return parseRSS(b)
}

func parseRSS(b []byte) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, "VmRSS:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("%w: %q", ErrFormat, line)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%w: %q", ErrFormat, line)
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("%w: no VmRSS", ErrFormat)
}

// System is the machine's CPU time so far, all cores together.
type System struct {
	Busy  time.Duration // user, nice, system, irq, softirq, steal
	Total time.Duration // Busy plus idle and iowait
}

// SystemCPU reads the first line of /proc/stat.
func SystemCPU() (System, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return System{}, fmt.Errorf("proc: %w", err)
	}
	return parseSystem(b)
}

func parseSystem(b []byte) (System, error) {
	line, _, _ := bytes.Cut(b, []byte{'\n'})
	f := strings.Fields(string(line))
	if len(f) < 9 || f[0] != "cpu" {
		return System{}, fmt.Errorf("%w: /proc/stat line %q", ErrFormat, line)
	}
	var v [8]uint64 // user nice system idle iowait irq softirq steal
	for i := range v {
		n, err := strconv.ParseUint(f[i+1], 10, 64)
		if err != nil {
			return System{}, fmt.Errorf("%w: /proc/stat field %q", ErrFormat, f[i+1])
		}
		v[i] = n
	}
	busy := v[0] + v[1] + v[2] + v[5] + v[6] + v[7]
	return System{Busy: time.Duration(busy) * clockTick, Total: time.Duration(busy+v[3]+v[4]) * clockTick}, nil
}

// SelfCPU returns the user plus system CPU time of this process (all its
// threads, not its children).
func SelfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
