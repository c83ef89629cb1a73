// Package conformance tests gosio's servers against the official JavaScript
// clients, run by Node.js.
//
// The package has no API; everything is in its tests. Each test starts one of
// our servers on 127.0.0.1, runs a client script from scripts/ with node,
// and asserts on both sides: on the JSON line the script prints (what the
// client received, its close reason, whether it upgraded) and on what the
// server observed (messages, upgrades, the OnClose reason). Every scenario
// runs in three modes, like net/http's run(t, mode) helper:
//
//	polling    transports ["polling"]
//	websocket  transports ["websocket"]
//	upgrade    transports ["polling", "websocket"]: the client must upgrade
//
// # Setup
//
// The clients are npm packages pinned exactly in package.json and
// package-lock.json. Install them once, and again whenever the lockfile
// changes:
//
//	npm ci --prefix conformance
//	go test -race ./conformance/...
//
// Node.js 18 or newer must be on PATH. When node or the packages are missing,
// or the installed versions differ from the lockfile, the tests fail with a
// message saying so; they never skip, so a CI run without Node cannot pass
// silently. node_modules is not committed.
//
// # Scripts
//
// scripts/*.cjs are plain CommonJS files, no build step. They take their
// parameters as --name=value arguments (or GOSIO_NAME environment
// variables), print diagnostics on stderr and exactly one JSON result line
// on stdout, exit non-zero on failure and stop themselves after a timeout.
// To debug one by hand, start a server and run for example
//
//	DEBUG='engine.io-client:*' node conformance/scripts/engineio_client.cjs \
//		--url=http://127.0.0.1:8080 --transports='["polling","websocket"]' --scenario=text_echo
//
// The tests print the script's stderr and the server's debug log when they
// fail. They leave no goroutines behind: TestMain runs leakcheck.Main and
// every scenario checks itself with leakcheck.Check (internal/leakcheck).
package conformance
