package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gosio/gosio/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

const (
	// installHint tells how to get the pinned clients.
	installHint = "run `npm ci --prefix conformance` from the repository root"

	// scriptTimeout is the self-timeout passed to the scripts; the process
	// is killed if it outlives scriptTimeout+killGrace.
	scriptTimeout = 15 * time.Second
	killGrace     = 5 * time.Second
	// scriptLinger is how long a script may stay alive after its scenario
	// ended before it reports "lingered" (open sockets or requests).
	scriptLinger = 2 * time.Second
)

// requireNode returns the path of node and fails t unless node is on PATH and
// each npm package in pkgs is installed in node_modules at the version
// package-lock.json pins. It never skips: a machine that cannot run the
// conformance tests must not pass them.
func requireNode(t testing.TB, pkgs ...string) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("conformance: node not found on PATH (%v): install Node.js 18 or newer, then %s", err, installHint)
	}
	var lock struct {
		Packages map[string]struct {
			Version string `json:"version"`
		} `json:"packages"`
	}
	lockData, err := os.ReadFile("package-lock.json")
	if err != nil {
		t.Fatalf("conformance: %v", err)
	}
	if err := json.Unmarshal(lockData, &lock); err != nil {
		t.Fatalf("conformance: package-lock.json: %v", err)
	}
	for _, pkg := range pkgs {
		key := "node_modules/" + pkg
		pinned, ok := lock.Packages[key]
		if !ok {
			t.Fatalf("conformance: package-lock.json does not pin %s; add it to package.json and run npm install in conformance/", pkg)
		}
		data, err := os.ReadFile(filepath.Join(key, "package.json"))
		if errors.Is(err, os.ErrNotExist) {
			t.Fatalf("conformance: npm package %s is not installed; %s", pkg, installHint)
		}
		if err != nil {
			t.Fatalf("conformance: %v", err)
		}
		var installed struct {
			Version string `json:"version"`
		}
		if err := json.Unmarshal(data, &installed); err != nil {
			t.Fatalf("conformance: %s/package.json: %v", key, err)
		}
		if installed.Version != pinned.Version {
			t.Fatalf("conformance: %s %s is installed but package-lock.json pins %s; %s",
				pkg, installed.Version, pinned.Version, installHint)
		}
	}
	return node
}

// nodeRun is the outcome of one script run.
type nodeRun struct {
	stdout, stderr string
	exitCode       int // -1 if the process did not exit normally
	err            error
}

// runScript runs `node script args…` in the package directory and decodes
// the JSON line the script printed last into result. It fails t only if
// the script printed no JSON: a script that reports a failure still yields
// a result for the test to assert on. The script's stderr is logged if t
// fails.
func runScript(t *testing.T, node, script string, result any, args ...string) nodeRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), scriptTimeout+killGrace)
	defer cancel()

	args = append([]string{script,
		"--timeout=" + strconv.FormatInt(scriptTimeout.Milliseconds(), 10),
		"--linger=" + strconv.FormatInt(scriptLinger.Milliseconds(), 10),
	}, args...)
	cmd := exec.CommandContext(ctx, node, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second // don't wait for grandchildren holding the pipes
	start := time.Now()
	err := cmd.Run()
	run := nodeRun{stdout: stdout.String(), stderr: stderr.String(), exitCode: -1, err: err}
	if cmd.ProcessState != nil {
		run.exitCode = cmd.ProcessState.ExitCode()
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("node %s (exit code %d, %v, %v):\n--- stderr ---\n%s--- stdout ---\n%s",
				strings.Join(args, " "), run.exitCode, time.Since(start).Round(time.Millisecond), err,
				run.stderr, truncate(run.stdout, 4096))
		}
	})
	if ctx.Err() != nil {
		t.Fatalf("node %s: killed after %v: the script's own timeout did not fire", script, scriptTimeout+killGrace)
	}
	line := lastLine(run.stdout)
	if line == "" {
		t.Fatalf("node %s printed no result (exit code %d, %v)", script, run.exitCode, err)
	}
	if err := json.Unmarshal([]byte(line), result); err != nil {
		t.Fatalf("node %s: result is not JSON: %v", script, err)
	}
	return run
}

// lastLine returns the last non-empty line of s.
func lastLine(s string) string {
	s = strings.TrimRight(s, "\r\n")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return strings.TrimSpace(s)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…(truncated)\n"
}
