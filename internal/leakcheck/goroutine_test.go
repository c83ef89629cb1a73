package leakcheck

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dump is a runtime.Stack(all=true) dump from a test binary (Go 1.26),
// trimmed to the shapes the parser must handle.
const dump = `goroutine 31 [running]:
stk.TestX.func3(0x1384171a0b48?)
	/tmp/stk/main_test.go:10 +0x3d
testing.tRunner(0x1384171a0b48, 0x7e8920)
	/usr/local/go/src/testing/testing.go:2036 +0xea
created by testing.(*T).Run in goroutine 21
	/usr/local/go/src/testing/testing.go:2101 +0x4c5

goroutine 1 [chan receive]:
testing.(*T).Run(0x1384171a0488, {0x7c7938?, 0x0?}, 0x7e8868)
	/usr/local/go/src/testing/testing.go:2109 +0x4e5
testing.(*M).Run(0x138417196320)
	/usr/local/go/src/testing/testing.go:2443 +0x6ac
main.main()
	_testmain.go:46 +0x9b

goroutine 23 [syscall]:
os/signal.signal_recv()
	/usr/local/go/src/runtime/sigqueue.go:152 +0x98
os/signal.loop()
	/usr/local/go/src/os/signal/signal_unix.go:23 +0x13
created by os/signal.Notify.func1.1 in goroutine 21
	/usr/local/go/src/os/signal/signal.go:152 +0x1f

goroutine 24 gp=0xc000003340 m=nil [chan receive, 2 minutes]:
stk.TestX.func1()
	/tmp/stk/main_test.go:6 +0x19
created by stk.TestX in goroutine 21
	/tmp/stk/main_test.go:6 +0xa7

goroutine 28 [select]:
net/http.(*persistConn).writeLoop(0x138417216140)
	/usr/local/go/src/net/http/transport.go:2652 +0xe6
...additional frames elided...
created by net/http.(*Transport).dialConn in goroutine 26
	/usr/local/go/src/net/http/transport.go:1995 +0x16fe

goroutine 40 [runnable]:
runtime.forcegchelper()
	/usr/local/go/src/runtime/proc.go:373
created by runtime.init.7 in goroutine 1
	/usr/local/go/src/runtime/proc.go:361 +0x25

goroutine 41 [runnable]:
runtime.goexit({})
	/usr/local/go/src/runtime/asm_amd64.s:1771 +0x1
created by stk.TestX in goroutine 21
	/tmp/stk/main_test.go:7 +0xa7

not a goroutine block
`

func TestParseStacks(t *testing.T) {
	gs := parseStacks(dump)
	require.Len(t, gs, 7, "every goroutine block and nothing else")

	tests := []struct {
		id             uint64
		top, entry     string
		createdBy      string
		ignored        bool
		stackHasPrefix string
	}{
		{31, "stk.TestX.func3", "testing.tRunner", "testing.(*T).Run", true, "goroutine 31 [running]:\n"},
		{1, "testing.(*T).Run", "main.main", "", false, "goroutine 1 [chan receive]:\n"},
		{23, "os/signal.signal_recv", "os/signal.loop", "os/signal.Notify.func1.1", true, "goroutine 23 [syscall]:\n"},
		{24, "stk.TestX.func1", "stk.TestX.func1", "stk.TestX", false, "goroutine 24 gp="},
		{28, "net/http.(*persistConn).writeLoop", "net/http.(*persistConn).writeLoop", "net/http.(*Transport).dialConn", false, "goroutine 28 [select]:\n"},
		{40, "runtime.forcegchelper", "runtime.forcegchelper", "runtime.init.7", true, "goroutine 40 [runnable]:\n"},
		// Created but not started yet: only runtime.goexit shows; still a leak.
		{41, "runtime.goexit", "runtime.goexit", "stk.TestX", false, "goroutine 41 [runnable]:\n"},
	}
	for i, tt := range tests {
		g := gs[i]
		assert.Equal(t, tt.id, g.id)
		assert.Equal(t, tt.top, g.top, "top of goroutine %d", tt.id)
		assert.Equal(t, tt.entry, g.entry, "entry of goroutine %d", tt.id)
		assert.Equal(t, tt.createdBy, g.createdBy, "creator of goroutine %d", tt.id)
		assert.Equal(t, tt.ignored, ignored(g), "ignored(goroutine %d)", tt.id)
		assert.Truef(t, len(g.stack) > len(tt.stackHasPrefix) && g.stack[:len(tt.stackHasPrefix)] == tt.stackHasPrefix,
			"stack of goroutine %d starts with its header, got %q", tt.id, g.stack)
	}
}

func TestParseStacks_Live(t *testing.T) {
	gs := snapshot()
	require.NotEmpty(t, gs)
	assert.Equal(t, "github.com/gosio/gosio/internal/leakcheck.stacks", gs[0].top, "the caller comes first")
	assert.Contains(t, gs[0].stack, "leakcheck.TestParseStacks_Live(")
	assert.Equal(t, "testing.tRunner", gs[0].entry)
}

func TestFuncPackage(t *testing.T) {
	tests := []struct{ fn, want string }{
		{"testing.tRunner", "testing"},
		{"testing.(*T).Run", "testing"},
		{"testing/synctest.Run", "testing/synctest"},
		{"net/http.(*persistConn).readLoop", "net/http"},
		{"os/signal.loop", "os/signal"},
		{"github.com/gosio/gosio/engineio.(*Session).run.func1", "github.com/gosio/gosio/engineio"},
		{"gopkg.in/yaml.v3.Unmarshal", "gopkg.in/yaml"}, // dots in the last path element are ambiguous; good enough for the ignore list
		{"main.main", "main"},
		{"", ""},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, funcPackage(tt.fn), "funcPackage(%q)", tt.fn)
	}
}

func TestFuncName(t *testing.T) {
	tests := []struct{ frame, want string }{
		{"net/http.(*persistConn).readLoop(0xc000216140)", "net/http.(*persistConn).readLoop"},
		{"main.main()", "main.main"},
		{"pkg.Map[...](...)", "pkg.Map[...]"},
		{"testing.(*T).Run(0x1384171a0488, {0x7c7938?, 0x0?}, 0x7e8868)", "testing.(*T).Run"},
		{"no.args.here", "no.args.here"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, funcName(tt.frame), "funcName(%q)", tt.frame)
	}
}
