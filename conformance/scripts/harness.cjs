"use strict";
// Shared plumbing for the conformance scripts: argument parsing, a hard
// self-timeout, diagnostics on stderr and exactly one JSON result line on
// stdout.
//
// Contract with the Go tests (conformance/*_test.go):
//   - parameters come from --name=value (or "--name value") arguments, each
//     with an environment fallback GOSIO_<NAME> (upper case, "-" → "_");
//   - the last line on stdout is one JSON object, the result;
//   - exit status 0 means the scenario ran to completion, 1 that it failed,
//     2 that it hit the self-timeout; the result says why in "error";
//   - diagnostics, timestamped from process start, go to stderr.

const crypto = require("node:crypto");

const started = Date.now();

/** log writes one diagnostic line to stderr. */
function log(...args) {
  const ms = String(Date.now() - started).padStart(5, " ");
  const text = args
    .map((a) => (typeof a === "string" ? a : safeJSON(a)))
    .join(" ");
  process.stderr.write(`[${ms}ms] ${text}\n`);
}

function safeJSON(v) {
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

/**
 * parseArgsOrExit is parseArgs for a script's entry point: on a usage error
 * it reports it (stderr, and the one JSON result line the Go side reads)
 * and exits with status 1.
 */
function parseArgsOrExit(defaults) {
  try {
    return parseArgs(defaults);
  } catch (err) {
    process.stderr.write(`usage error: ${err.message}\n`);
    process.stdout.write(JSON.stringify({ ok: false, error: `usage: ${err.message}` }) + "\n");
    process.exit(1);
  }
}

/**
 * parseArgs reads --name=value / --name value pairs from process.argv, then
 * fills the missing names in defaults from GOSIO_<NAME> environment variables.
 */
function parseArgs(defaults) {
  const args = { ...defaults };
  const given = new Set();
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/s.exec(argv[i]);
    if (!m) throw new Error(`unexpected argument ${JSON.stringify(argv[i])}`);
    const [, name, inline] = m;
    if (!(name in defaults)) throw new Error(`unknown flag --${name}`);
    given.add(name);
    if (inline !== undefined) {
      args[name] = inline;
    } else if (i + 1 < argv.length) {
      args[name] = argv[++i];
    } else {
      throw new Error(`flag --${name} needs a value`);
    }
  }
  for (const name of Object.keys(defaults)) {
    const env = "GOSIO_" + name.toUpperCase().replace(/-/g, "_");
    if (!given.has(name) && process.env[env] !== undefined) {
      args[name] = process.env[env];
    }
  }
  return args;
}

const SMALL = 256; // messages up to this many bytes are reported in full

/**
 * describe turns a message payload into a JSON-friendly record:
 * { type: "text"|"binary"|"other", length, sha256, data?|hex?, jsType }.
 * length and sha256 are computed over the UTF-8 bytes of a text message.
 */
function describe(data) {
  if (typeof data === "string") {
    const bytes = Buffer.from(data, "utf8");
    const r = { type: "text", length: bytes.length, sha256: sha256(bytes) };
    if (bytes.length <= SMALL) r.data = data;
    return r;
  }
  let bytes = null;
  if (Buffer.isBuffer(data)) bytes = data;
  else if (data instanceof ArrayBuffer) bytes = Buffer.from(data);
  else if (ArrayBuffer.isView(data))
    bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const jsType = Object.prototype.toString.call(data).slice(8, -1);
  if (bytes === null) return { type: "other", jsType };
  const r = {
    type: "binary",
    jsType: Buffer.isBuffer(data) ? "Buffer" : jsType,
    length: bytes.length,
    sha256: sha256(bytes),
  };
  if (bytes.length <= SMALL) r.hex = bytes.toString("hex");
  return r;
}

function sha256(bytes) {
  return crypto.createHash("sha256").update(bytes).digest("hex");
}

/**
 * run starts a scenario under a hard timeout. body(finish) does the work and
 * calls finish(error?) once; result is the object printed as JSON.
 *
 * After finish the script does not exit at once: it lets the event loop
 * drain so that a client's last packets (a close packet on a POST, a
 * WebSocket close frame) reach the server. If open handles keep the process
 * alive longer than lingerMs, it exits anyway and says so in
 * result.lingered: a server that leaves a request or a connection hanging
 * shows up there.
 */
function run({ result, timeoutMs, lingerMs = 3000, body }) {
  let printed = false;
  let finished = false;
  const print = () => {
    if (printed) return;
    printed = true;
    result.elapsedMs = Date.now() - started;
    process.stdout.write(JSON.stringify(result) + "\n");
  };

  const finish = (err) => {
    if (finished) return;
    finished = true;
    if (err) {
      result.ok = false;
      result.error = err instanceof Error ? err.message : String(err);
      log("FAILED:", result.error);
    } else {
      result.ok = true;
      log("scenario complete");
    }
    process.exitCode = result.ok ? 0 : 1;
    setTimeout(() => {
      result.lingered = true;
      log(`still alive ${lingerMs}ms after the scenario ended; open handles:`,
        process.getActiveResourcesInfo());
      print();
      process.exit(process.exitCode);
    }, lingerMs).unref();
  };

  // Unref'd: fires only if something else keeps the process alive.
  setTimeout(() => {
    if (finished) return;
    finished = true;
    result.ok = false;
    result.error = `timeout: scenario did not finish within ${timeoutMs}ms (last step: ${result.step || "none"})`;
    log(result.error);
    print();
    process.exit(2);
  }, timeoutMs).unref();

  process.on("beforeExit", () => {
    if (!finished) {
      finished = true;
      result.ok = false;
      result.error = `event loop drained before the scenario finished (last step: ${result.step || "none"})`;
      log(result.error);
      process.exitCode = 1;
    }
    print();
  });

  process.on("uncaughtException", (err) => {
    log("uncaught exception:", err && err.stack ? err.stack : String(err));
    if (!finished) finish(err);
    print();
    process.exit(1);
  });

  try {
    body(finish);
  } catch (err) {
    finish(err);
  }
}

module.exports = { log, parseArgs, parseArgsOrExit, describe, sha256, run };
