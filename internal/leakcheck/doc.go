// Package leakcheck fails tests that leave goroutines running.
//
// It is the goroutine-leak gate of STYLE.md §9, in the spirit of
// coder/websocket's TestMain check and nats.go's checkNoGoroutineLeak, with no
// third-party dependencies. Every package whose tests start goroutines
// (servers, sessions, clients) installs the package-wide gate:
//
//	func TestMain(m *testing.M) { leakcheck.Main(m) }
//
// and tests of close paths check themselves, so that a leak is blamed on the
// test that caused it:
//
//	func TestSession_Close(t *testing.T) {
//		defer leakcheck.Check(t)()
//		// start a server, connect, close …
//	}
//
// # How goroutines are compared
//
// A snapshot is the set of goroutine ids from [runtime.Stack] with all=true.
// Ids are never reused, so a goroutine present in the snapshot is never
// reported, and a goroutine that was started and has exited is not either.
// A check compares the current goroutines with the snapshot and, while extra
// goroutines remain, polls again every 10 ms for up to 5 s: shutting down
// takes a moment (a connection's read loop notices its closed socket, a timer
// callback finishes). What is still there after 5 s is reported with its full
// stack.
//
// # Ignored goroutines
//
// The list is deliberately short; everything else that was not in the
// snapshot is a leak:
//
//   - the goroutine doing the check;
//   - the testing framework: goroutines whose entry function, or whose
//     creator, is in package testing (test and subtest goroutines blocked in
//     [testing.T.Run] or [testing.T.Parallel]);
//   - the runtime: goroutines whose entry function and creator are in
//     package runtime (only visible with GOTRACEBACK=system or higher; a
//     goroutine that has not started yet also shows only runtime.goexit, so
//     its creator decides);
//   - os/signal: the signal-delivery loop that [os/signal.Notify] starts once
//     per process and never stops.
//
// The idle connection pool of [net/http.DefaultTransport] is tolerated too,
// but not by pattern: its idle connections are closed (CloseIdleConnections)
// before every comparison, so their net/http.(*persistConn).readLoop and
// writeLoop goroutines exit. A stack trace cannot tell which Transport a
// connection belongs to, so ignoring those functions by name would hide
// leaks of every other client as well. Tests that create their own
// [net/http.Client] or [net/http.Transport] must call CloseIdleConnections on
// it when done (httptest.Server.Close does this for the client it hands
// out); connections that are still busy, in any transport, are leaks.
//
// # Limits
//
// [Check] sees every goroutine of the process, so it cannot attribute
// goroutines to one test when tests run in parallel: do not use it in tests
// that call t.Parallel, or in their parents while the parallel subtests run.
// [Main] has no such limit because it checks after all tests have finished.
package leakcheck
