package conformance

import (
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The conformance report: README.md lists every scenario of the suites'
// tables and the modes it runs in. TestReport regenerates that list from the
// tables and fails when README.md differs; TestReport_Tables checks that the
// tables are all the package's tests run, so that the list cannot drift from
// the code in either direction.

var update = flag.Bool("update", false, "rewrite the scenario list in README.md (TestReport)")

const (
	readmeFile = "README.md"
	// The generated part of README.md lies between these two lines.
	reportStart = "<!-- report:start: generated from the suites' tables by `go test ./conformance -run TestReport -update`; do not edit by hand -->"
	reportEnd   = "<!-- report:end -->"
	// updateHint tells how to bring README.md up to date.
	updateHint = "run `go test ./conformance -run TestReport -update` and commit README.md"

	// minRuns is the number of scenario × transport runs the suite must keep
	// at least (issue 6: "the conformance report lists ≥ 60 runs").
	minRuns = 60
)

// nonScenarioTests are the package's tests that run no client scenario, so
// that README.md does not list them. Any other test must run through
// runScenario.
var nonScenarioTests = []string{"TestNodeClients_Pinned", "TestReport", "TestReport_Tables"}

// suites returns every suite's table, in README.md's order.
func suites() []suite {
	return []suite{engineIOSuite, socketIOSuite, recoverySuite, clusterSuite}
}

// TestReport checks that README.md's scenario list is the one the suites'
// tables give, and rewrites it with -update.
func TestReport(t *testing.T) {
	data, err := os.ReadFile(readmeFile)
	require.NoError(t, err)
	readme := string(data)
	head, rest, ok := strings.Cut(readme, reportStart+"\n")
	require.Truef(t, ok, "%s: no line %q", readmeFile, reportStart)
	old, tail, ok := strings.Cut(rest, reportEnd+"\n")
	require.Truef(t, ok, "%s: no line %q after the start marker", readmeFile, reportEnd)

	// The prose names the clients' versions: those package-lock.json pins.
	lock := readLock(t)
	for _, pkg := range []string{engineIOClient, socketIOClient} {
		named := fmt.Sprintf("[%s](https://www.npmjs.com/package/%s) %s", pkg, pkg, lock.Packages["node_modules/"+pkg].Version)
		if !strings.Contains(head, named) {
			t.Errorf("%s must name the version of %s that package-lock.json pins: no %q before the scenario list", readmeFile, pkg, named)
		}
	}

	want := renderReport(suites())
	if *update {
		if old != want {
			require.NoError(t, os.WriteFile(readmeFile, []byte(head+reportStart+"\n"+want+reportEnd+"\n"+tail), 0o644))
			t.Logf("%s: scenario list rewritten", readmeFile)
		}
		return
	}
	if old != want {
		t.Errorf("%s lists other scenarios than the suites' tables: %s\n--- %s\n+++ suites' tables\n%s",
			readmeFile, updateHint, readmeFile, lineDiff(old, want))
	}
}

// lineDiff returns the lines that differ between a and b, those only in a
// prefixed with "-", those only in b with "+", in order (a longest common
// subsequence of lines is left out).
func lineDiff(a, b string) string {
	x, y := strings.Split(a, "\n"), strings.Split(b, "\n")
	// lcs[i][j] is the length of the longest common subsequence of x[i:]
	// and y[j:].
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out strings.Builder
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			i, j = i+1, j+1
		case i < len(x) && (j == len(y) || lcs[i+1][j] >= lcs[i][j+1]):
			fmt.Fprintf(&out, "-%s\n", x[i])
			i++
		default:
			fmt.Fprintf(&out, "+%s\n", y[j])
			j++
		}
	}
	return out.String()
}

// TestReport_Tables checks the suites' tables against the package's test
// functions, read from the source: every scenario belongs to a test that
// runs its table (a test function whose body is runScenario(t)), every test
// is either such a test or one of nonScenarioTests, and the tables are well
// formed, with at least minRuns runs in all.
func TestReport_Tables(t *testing.T) {
	tests := testFuncs(t)
	runsTable := map[string]bool{} // test function → its body is runScenario(t)
	for name, fn := range tests {
		runsTable[name] = isRunScenario(fn)
	}

	seen := map[string]bool{}
	hasScenario := map[string]bool{}
	total := 0
	for _, s := range suites() {
		assert.NotEmptyf(t, s.scenarios, "suite %s has no scenario", s.title)
		assert.FileExistsf(t, s.file, "suite %s: file", s.title)
		assert.FileExistsf(t, s.script, "suite %s: client script", s.title)
		for _, sc := range s.scenarios {
			assert.Falsef(t, seen[sc.test], "scenario %s is listed twice", sc.test)
			seen[sc.test] = true
			root, sub, _ := strings.Cut(sc.test, "/")
			assert.NotContainsf(t, sub, "/", "scenario %s: at most one level of subtest", sc.test)
			if runs, ok := runsTable[root]; !ok {
				t.Errorf("scenario %s: no test function %s in the package (declare it in %s: func %s(t *testing.T) { runScenario(t) })",
					sc.test, root, s.file, root)
			} else if !runs {
				t.Errorf("scenario %s: the body of %s must be runScenario(t), so that it runs its scenarios", sc.test, root)
			}
			hasScenario[root] = true
			assert.NotNilf(t, sc.run, "scenario %s: run", sc.test)
			assert.NotEmptyf(t, sc.covers, "scenario %s: covers (what README.md says it checks)", sc.test)
			assert.NotEmptyf(t, sc.modes, "scenario %s: modes", sc.test)
			for _, m := range sc.modes {
				assert.Truef(t, slices.ContainsFunc(modes, func(k mode) bool { return k.name == m.name }),
					"scenario %s: mode %q is not one of modes", sc.test, m.name)
			}
			total += len(sc.modes)
		}
	}
	for name := range tests {
		switch {
		case slices.Contains(nonScenarioTests, name):
			assert.Falsef(t, hasScenario[name], "%s is in nonScenarioTests but has scenarios", name)
		case !runsTable[name]:
			t.Errorf("%s does not run a scenario table, so README.md cannot list it: make its body runScenario(t) and add its scenario to a suite's table, or, if it runs no client scenario, add it to nonScenarioTests", name)
		default:
			assert.Truef(t, hasScenario[name], "%s runs runScenario(t) but no table has a scenario for it", name)
		}
	}
	assert.GreaterOrEqualf(t, total, minRuns, "scenario × transport runs in the suites' tables")
}

// testFuncs returns the package's test functions (TestXxx(t *testing.T),
// not TestMain) by name, parsed from its _test.go files.
func testFuncs(t *testing.T) map[string]*ast.FuncDecl {
	t.Helper()
	files, err := filepath.Glob("*_test.go")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	fset := token.NewFileSet()
	tests := map[string]*ast.FuncDecl{}
	for _, file := range files {
		f, err := parser.ParseFile(fset, file, nil, parser.SkipObjectResolution)
		require.NoError(t, err)
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Recv != nil || !strings.HasPrefix(fn.Name.Name, "Test") || fn.Name.Name == "TestMain" {
				continue
			}
			tests[fn.Name.Name] = fn
		}
	}
	return tests
}

// isRunScenario reports whether fn's body is exactly runScenario(t).
func isRunScenario(fn *ast.FuncDecl) bool {
	if fn.Body == nil || len(fn.Body.List) != 1 {
		return false
	}
	stmt, ok := fn.Body.List[0].(*ast.ExprStmt)
	if !ok {
		return false
	}
	call, ok := stmt.X.(*ast.CallExpr)
	if !ok || len(call.Args) != 1 {
		return false
	}
	name, ok := call.Fun.(*ast.Ident)
	arg, argOK := call.Args[0].(*ast.Ident)
	return ok && argOK && name.Name == "runScenario" && arg.Name == "t"
}

// renderReport returns README.md's generated part: the modes, a summary per
// suite, and each suite's scenarios with the modes they run in.
func renderReport(all []suite) string {
	var b strings.Builder
	scenarios, runs := 0, 0
	for _, s := range all {
		scenarios += len(s.scenarios)
		for _, sc := range s.scenarios {
			runs += len(sc.modes)
		}
	}
	fmt.Fprintf(&b, "\n**%d scenarios, %d scenario × transport runs.**\n\n", scenarios, runs)

	b.WriteString("| Mode | Client `transports` | Upgrade to WebSocket |\n|---|---|---|\n")
	for _, m := range modes {
		upgrade := "no"
		if m.upgrade {
			upgrade = "yes, required"
		}
		fmt.Fprintf(&b, "| %s | `[%s]` | %s |\n", m.name, quoteList(m.transports), upgrade)
	}

	b.WriteString("\n| Suite | File | Client script | Scenarios | Runs |\n|---|---|---|--:|--:|\n")
	for _, s := range all {
		n := 0
		for _, sc := range s.scenarios {
			n += len(sc.modes)
		}
		fmt.Fprintf(&b, "| [%s](#%s) | [%s](%s) | [%s](%s) | %d | %d |\n",
			s.title, anchor(s.title), s.file, s.file, s.script, s.script, len(s.scenarios), n)
	}
	fmt.Fprintf(&b, "| **Total** | | | **%d** | **%d** |\n", scenarios, runs)

	for _, s := range all {
		fmt.Fprintf(&b, "\n### %s\n\n| Test |", s.title)
		for _, m := range modes {
			fmt.Fprintf(&b, " %s |", m.name)
		}
		b.WriteString(" Covers |\n|---|")
		for range modes {
			b.WriteString(":-:|")
		}
		b.WriteString("---|\n")
		for _, sc := range s.scenarios {
			fmt.Fprintf(&b, "| `%s` |", sc.test)
			for _, m := range modes {
				mark := "–"
				if slices.ContainsFunc(sc.modes, func(k mode) bool { return k.name == m.name }) {
					mark = "✓"
				}
				fmt.Fprintf(&b, " %s |", mark)
			}
			fmt.Fprintf(&b, " %s |\n", markdownText(sc.covers))
		}
	}
	b.WriteString("\n")
	return b.String()
}

// quoteList formats ss as the elements of a JSON array of strings.
func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// anchor returns the id GitHub gives the heading title.
func anchor(title string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(title) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		}
	}
	return b.String()
}

// markdownText escapes the characters of s that a Markdown table cell would
// take for syntax.
func markdownText(s string) string {
	return strings.NewReplacer(`|`, `\|`, `*`, `\*`, `_`, `\_`, "`", "\\`", `<`, `&lt;`).Replace(s)
}
