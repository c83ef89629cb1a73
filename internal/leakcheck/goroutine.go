package leakcheck

import (
	"runtime"
	"strconv"
	"strings"
)

// goroutine is one goroutine of a runtime.Stack dump.
type goroutine struct {
	id        uint64
	top       string // function of the innermost shown frame, e.g. "net/http.(*persistConn).readLoop"
	entry     string // function of the outermost shown frame: what the goroutine was started with
	createdBy string // function that started it ("" for the main goroutine)
	stack     string // the goroutine's full text, header included
}

// Markers of the runtime.Stack text format.
const (
	headerPrefix    = "goroutine "
	createdByPrefix = "created by "
	elidedPrefix    = "..." // "...additional frames elided..."
)

// stacks returns the text of runtime.Stack(all=true), growing the buffer
// until the dump fits.
func stacks() []byte {
	buf := make([]byte, 64<<10)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return buf[:n]
		}
		buf = make([]byte, 2*len(buf))
	}
}

// snapshot returns the goroutines running now. The first one is the calling
// goroutine: runtime.Stack lists it first.
func snapshot() []goroutine {
	return parseStacks(string(stacks()))
}

// parseStacks splits a runtime.Stack(all=true) dump into goroutines. Blocks
// it cannot parse are skipped rather than reported: a checker must not fail a
// test because the dump format gained a field.
func parseStacks(dump string) []goroutine {
	var gs []goroutine
	for block := range strings.SplitSeq(dump, "\n\n") {
		block = strings.TrimSpace(block)
		if g, ok := parseGoroutine(block); ok {
			gs = append(gs, g)
		}
	}
	return gs
}

// parseGoroutine parses one block of the form
//
//	goroutine 24 [chan receive]:
//	pkg.F.func1()
//		/path/f.go:6 +0x19
//	created by pkg.F in goroutine 21
//		/path/f.go:6 +0xa7
func parseGoroutine(block string) (goroutine, bool) {
	header, rest, _ := strings.Cut(block, "\n")
	if !strings.HasPrefix(header, headerPrefix) {
		return goroutine{}, false
	}
	// The header may carry more fields ("goroutine 7 gp=0x… m=nil [select]:"),
	// but the id always comes first.
	idText, _, _ := strings.Cut(header[len(headerPrefix):], " ")
	id, err := strconv.ParseUint(idText, 10, 64)
	if err != nil {
		return goroutine{}, false
	}
	g := goroutine{id: id, stack: block}
	for line := range strings.SplitSeq(rest, "\n") {
		switch {
		case line == "", strings.HasPrefix(line, "\t"), strings.HasPrefix(line, elidedPrefix):
			// file:line of the frame above, or a marker: not a function.
		case strings.HasPrefix(line, createdByPrefix):
			fn := line[len(createdByPrefix):]
			fn, _, _ = strings.Cut(fn, " in goroutine ")
			g.createdBy = fn
		default:
			fn := funcName(line)
			if g.top == "" {
				g.top = fn
			}
			g.entry = fn
		}
	}
	return g, g.top != ""
}

// funcName strips the argument list from a frame line:
// "net/http.(*persistConn).readLoop(0xc000216140)" → "net/http.(*persistConn).readLoop".
// Generic functions keep their "[...]" part.
func funcName(frame string) string {
	if !strings.HasSuffix(frame, ")") {
		return frame
	}
	if i := strings.LastIndexByte(frame, '('); i > 0 {
		return frame[:i]
	}
	return frame
}

// funcPackage returns the import path of a function name as printed in a
// stack trace: "net/http.(*Transport).dialConn" → "net/http",
// "testing.tRunner" → "testing".
func funcPackage(fn string) string {
	slash := strings.LastIndexByte(fn, '/')
	dot := strings.IndexByte(fn[slash+1:], '.')
	if dot < 0 {
		return fn
	}
	return fn[:slash+1+dot]
}
