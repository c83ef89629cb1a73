// The Node side of the gosio benchmark: the bench events of bench/server
// (its package doc is the contract) on the official socket.io package, with
// every server option at its default.
//
//   node bench/node/server.js
//   PORT=3001 REDIS_URL=redis://127.0.0.1:6379 node bench/node/server.js
//
// Environment:
//   PORT                TCP port, on 127.0.0.1 only. Default 3000; 0 picks a
//                       free port. Anything but a decimal number from 0 to
//                       65535 is refused.
//   REDIS_URL           if set, the Redis server of a cluster: the server uses
//                       @socket.io/redis-adapter, and every copy started with
//                       the same REDIS_URL and prefix serves the same clients.
//   BENCH_REDIS_PREFIX  the adapter's key prefix. Default: the adapter's own
//                       ("socket.io").
//
// Once listening it prints exactly one line on stdout,
// "listening 127.0.0.1:<port>"; everything else goes to stderr. SIGINT or
// SIGTERM closes the Socket.IO server (and the Redis clients), then exits 0.
// A failure to start exits 1.
"use strict";

const http = require("node:http");
const { Server } = require("socket.io");

const DEFAULT_PORT = 3000;
const MAX_COUNT = 1000000;
const MAX_SIZE = 1 << 20;
const SHUTDOWN_TIMEOUT_MS = 10000;

const ERR_PAYLOAD = "payload must be an object";
const ERR_ROOM = "room must be a string";
const ERR_COUNT = `count must be an integer from 0 to ${MAX_COUNT}`;
const ERR_SIZE = `size must be an integer from 0 to ${MAX_SIZE}`;

function parsePort(s) {
  if (s === undefined || s === "") return DEFAULT_PORT;
  if (!/^[0-9]+$/.test(s) || Number(s) > 65535) {
    throw new Error(`PORT=${JSON.stringify(s)} is not a port number (0 to 65535)`);
  }
  return Number(s);
}

// takeAck removes and returns the ack function socket.io appends when the
// client asked for one, or null.
function takeAck(args) {
  return typeof args[args.length - 1] === "function" ? args.pop() : null;
}

function isInteger(v, max) {
  return Number.isInteger(v) && v >= 0 && v <= max;
}

// fanout handles bench:broadcast (room false) and bench:room (room true).
function fanout(io, inRoom, args) {
  const ack = takeAck(args);
  const reply = ack || (() => {});
  const p = args[0];
  if (typeof p !== "object" || p === null || Array.isArray(p)) {
    return reply({ error: ERR_PAYLOAD });
  }
  if (inRoom && typeof p.room !== "string") return reply({ error: ERR_ROOM });
  if (!isInteger(p.count, MAX_COUNT)) return reply({ error: ERR_COUNT });
  if (!isInteger(p.size, MAX_SIZE)) return reply({ error: ERR_SIZE });
  const target = inRoom ? io.to(p.room) : io;
  const tick = "x".repeat(p.size);
  for (let i = 0; i < p.count; i++) {
    try {
      target.emit("tick", tick);
    } catch (err) {
      console.error(`bench: emit ${i + 1} of ${p.count} failed:`, err);
      return reply({ error: `emit ${i + 1} of ${p.count} failed: ${err.message}` });
    }
  }
  reply({ count: p.count });
}

// room handles bench:join and bench:leave.
async function room(socket, join, args) {
  const ack = takeAck(args);
  const r = args[0];
  if (typeof r !== "string") {
    if (ack) ack({ error: ERR_ROOM });
    return;
  }
  await (join ? socket.join(r) : socket.leave(r));
  if (ack) ack(r);
}

async function main() {
  const port = parsePort(process.env.PORT);
  const httpServer = http.createServer();
  const io = new Server(httpServer);

  const redisClients = [];
  if (process.env.REDIS_URL) {
    const { createClient } = require("redis");
    const { createAdapter } = require("@socket.io/redis-adapter");
    // An unreachable Redis fails the start at once; once connected, a
    // lost connection is retried forever.
    let connected = false;
    const pubClient = createClient({
      url: process.env.REDIS_URL,
      socket: { reconnectStrategy: (retries, err) => (connected ? Math.min(retries * 50, 1000) : err) },
      // node-redis 6 fails a command after 5 s by default, and the
      // adapter does not catch a failed PUBLISH: under the cluster
      // scenario's load (redis shares the servers' core) the process
      // died of an unhandled TimeoutError in 2 of about 10 runs. No
      // timeout, as in node-redis 4 and 5.
      commandOptions: { timeout: 0 },
    });
    const subClient = pubClient.duplicate();
    for (const c of [pubClient, subClient]) {
      c.on("error", (err) => console.error("redis:", err.message));
      redisClients.push(c);
    }
    await Promise.all([pubClient.connect(), subClient.connect()]);
    connected = true;
    const opts = process.env.BENCH_REDIS_PREFIX ? { key: process.env.BENCH_REDIS_PREFIX } : {};
    io.adapter(createAdapter(pubClient, subClient, opts));
    console.error(`using the redis adapter: ${process.env.REDIS_URL}`);
  }

  io.on("connection", (socket) => {
    socket.on("bench:echo", (...args) => {
      const ack = takeAck(args);
      if (ack) ack(...args);
    });
    socket.on("bench:broadcast", (...args) => fanout(io, false, args));
    socket.on("bench:room", (...args) => fanout(io, true, args));
    socket.on("bench:join", (...args) => room(socket, true, args));
    socket.on("bench:leave", (...args) => room(socket, false, args));
  });

  await new Promise((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(port, "127.0.0.1", resolve);
  });
  process.stdout.write(`listening 127.0.0.1:${httpServer.address().port}\n`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => {
      console.error("shutdown not done in time");
      process.exit(0);
    }, SHUTDOWN_TIMEOUT_MS).unref();
    await io.close();
    await Promise.all(redisClients.map((c) => c.close()));
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch((err) => {
  console.error("bench server:", err.message);
  process.exit(1);
});
