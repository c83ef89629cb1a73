package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
// package-lock.json pins, once: a second copy in the lockfile (npm nests one
// when a dependency needs another version, say socket.io-client wanting an
// engine.io-client other than the one pinned) means some code would not run
// the pinned version. It never skips: a machine that cannot run the
// conformance tests must not pass them.
func requireNode(t testing.TB, pkgs ...string) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("conformance: node not found on PATH (%v): install Node.js 20 or newer, then %s", err, installHint)
	}
	lock := readLock(t)
	for _, pkg := range pkgs {
		key := "node_modules/" + pkg
		pinned, ok := lock.Packages[key]
		if !ok {
			t.Fatalf("conformance: package-lock.json does not pin %s; add it to package.json and run npm install in conformance/", pkg)
		}
		for other, p := range lock.Packages {
			if other != key && strings.HasSuffix(other, "/"+key) {
				t.Fatalf("conformance: package-lock.json holds a second %s, %s at %s, besides the pinned %s; align the pins in package.json and run npm install in conformance/",
					pkg, p.Version, other, pinned.Version)
			}
		}
		installed, err := installedVersion(pkg)
		if errors.Is(err, os.ErrNotExist) {
			t.Fatalf("conformance: npm package %s is not installed; %s", pkg, installHint)
		}
		if err != nil {
			t.Fatalf("conformance: %v", err)
		}
		if installed != pinned.Version {
			t.Fatalf("conformance: %s %s is installed but package-lock.json pins %s; %s",
				pkg, installed, pinned.Version, installHint)
		}
	}
	return node
}

// packageLock is the part of package-lock.json the tests read.
type packageLock struct {
	Packages map[string]struct {
		Version      string            `json:"version"`
		Dependencies map[string]string `json:"dependencies"`
	} `json:"packages"`
}

func readLock(t testing.TB) *packageLock {
	t.Helper()
	data, err := os.ReadFile("package-lock.json")
	if err != nil {
		t.Fatalf("conformance: %v", err)
	}
	var lock packageLock
	if err := json.Unmarshal(data, &lock); err != nil {
		t.Fatalf("conformance: package-lock.json: %v", err)
	}
	return &lock
}

// installedVersion returns the version of the npm package pkg in
// node_modules.
func installedVersion(pkg string) (string, error) {
	data, err := os.ReadFile(filepath.Join("node_modules", pkg, "package.json"))
	if err != nil {
		return "", err
	}
	var installed struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(data, &installed); err != nil {
		return "", fmt.Errorf("node_modules/%s/package.json: %w", pkg, err)
	}
	return installed.Version, nil
}

// playwrightCore drives Chromium in examples/chat/browser_test.go; it is
// pinned here with the clients so that one npm ci installs everything.
const playwrightCore = "playwright-core"

// TestNodeClients_Pinned checks package.json against package-lock.json: each
// client is pinned to an exact version (no range), the lockfile resolves that
// very version, and node_modules holds it (requireNode).
func TestNodeClients_Pinned(t *testing.T) {
	data, err := os.ReadFile("package.json")
	require.NoError(t, err)
	var manifest struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	require.NoError(t, json.Unmarshal(data, &manifest), "package.json")
	assert.Equal(t, []string{engineIOClient, playwrightCore, socketIOClient}, slices.Sorted(maps.Keys(manifest.Dependencies)),
		"package.json dependencies: the clients the conformance tests drive, and the browser driver of the chat example's test")
	lock := readLock(t)
	exact := regexp.MustCompile(`^\d+\.\d+\.\d+$`)
	for pkg, want := range manifest.Dependencies {
		assert.Regexpf(t, exact, want, "package.json must pin %s to an exact version", pkg)
		assert.Equalf(t, want, lock.Packages["node_modules/"+pkg].Version, "package-lock.json must resolve %s to the version package.json pins", pkg)
		assert.Equalf(t, want, lock.Packages[""].Dependencies[pkg], "package-lock.json's copy of package.json pins %s (stale lockfile?)", pkg)
	}
	requireNode(t, socketIOPackages...) // socket.io-client, its parser and engine.io-client
	requireNode(t, playwrightCore)      // examples/chat/browser_test.go
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
