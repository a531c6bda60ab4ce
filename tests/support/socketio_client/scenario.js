// A real socket.io-client against the /container gateway: one scenario per run, its
// findings printed as one JSON line on stdout (tests/gateway/test_gateway_socketio_node.py
// asserts them). Usage: node scenario.js '<json {scenario, url, path, token, containerId,
// transports}>'
"use strict";

const { io } = require("socket.io-client");

const config = JSON.parse(process.argv[2]);
const TIMEOUT = 20000;

function connect(options) {
  return io(config.url + "/container", {
    path: config.path,
    reconnection: false,
    transports: config.transports || ["polling", "websocket"],
    ...options,
  });
}

function connected(socket) {
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("connect_error", (err) => reject(err));
  });
}

function refused(socket) {
  return new Promise((resolve) => {
    socket.once("connect", () => resolve({ connected: true }));
    socket.once("connect_error", (err) => resolve({ connected: false, message: err.message, data: err.data || null }));
  });
}

function request(socket, event, data) {
  return socket.timeout(TIMEOUT).emitWithAck(event, data);
}

function next(socket, event, match = () => true) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} in ${TIMEOUT} ms`)), TIMEOUT);
    const listener = (data) => {
      if (match(data)) {
        clearTimeout(timer);
        socket.off(event, listener);
        resolve(data);
      }
    };
    socket.on(event, listener);
  });
}

async function session() {
  const found = {};
  const socket = connect({ auth: { token: config.token }, reconnection: true, reconnectionDelay: 100 });
  await connected(socket);
  const joined = await request(socket, "join-container", { containerId: config.containerId });
  found.joined = joined;

  // A file round trip, by acknowledgements.
  const text = "hello from socket.io-client \u00e9\u2603\n";
  found.write = await request(socket, "fs-operation", { type: "writeFile", path: "/sio/hello.txt", contents: text })
    .catch((err) => ({ failed: String(err) }));
  if (found.write.event === "error") {
    await request(socket, "fs-operation", { type: "mkdir", path: "/sio", recursive: true });
    found.write = await request(socket, "fs-operation", { type: "writeFile", path: "/sio/hello.txt", contents: text });
  }
  const read = await request(socket, "fs-operation", { type: "readFile", path: "/sio/hello.txt" });
  found.roundTrip = read.data.result.contents === text;
  found.read = read;
  // The same without an acknowledgement: the reply comes as its event (fs-result).
  const stat = next(socket, "fs-result", (d) => d.type === "stat");
  socket.emit("fs-operation", { type: "stat", path: "/sio/hello.txt" });
  found.statEvent = await stat;

  // A spawn whose output streams as process-output pushes, then process-exit.
  const output = [];
  socket.on("process-output", (d) => output.push(d));
  const spawned = await request(socket, "process-operation", {
    type: "spawn", command: "sh", args: ["-c", "for i in 1 2 3; do echo line-$i; sleep 0.2; done"],
  });
  found.spawned = spawned;
  const pid = spawned.data.pid;
  const exit = await next(socket, "process-exit", (d) => d.pid === pid);
  found.exit = exit;
  found.output = output.filter((d) => d.pid === pid).map((d) => d.data).join("");
  found.outputPushes = output.filter((d) => d.pid === pid).length;

  // The line terminal: cd, then a reconnect (the transport is cut: the client reconnects
  // by itself), join again, and the cwd is still there.
  found.cd = await request(socket, "terminal-input", { input: "cd /tmp" });
  const firstId = socket.id;
  const back = next(socket, "connect");
  socket.io.engine.close(); // as a network that drops: not a disconnect() by the client
  await back;
  found.reconnected = socket.connected && socket.id !== firstId;
  found.rejoined = await request(socket, "join-container", { containerId: config.containerId });
  found.pwd = await request(socket, "terminal-input", { input: "pwd" });

  // Bad input: answered with error, the connection lives on.
  found.unknownAck = await request(socket, "no-such-event", {});
  const errorEvent = next(socket, "error");
  socket.emit("fs-operation", { type: "readFile" }); // no path, no ack: an error event
  found.errorEvent = await errorEvent;
  found.malformedAck = await request(socket, "fs-operation", "not an object");
  found.stillConnected = socket.connected;
  found.lastReaddir = await request(socket, "fs-operation", { type: "readdir", path: "/sio" });
  found.transport = socket.io.engine.transport.name;
  socket.disconnect();
  return found;
}

async function refusals() {
  const found = {};
  found.none = await refused(connect({}));
  found.wrongToken = await refused(connect({ auth: { token: "not-the-token" } }));
  found.foreignCookieless = await refused(connect({ extraHeaders: { Origin: "http://evil.example" } }));
  return found;
}

async function tokens() {
  const found = {};
  for (const [name, options] of Object.entries({
    auth: { auth: { token: config.token } },
    query: { query: { token: config.token } },
    header: { extraHeaders: { Authorization: `token ${config.token}` } },
  })) {
    const socket = connect(options);
    found[name] = await refused(socket);
    if (found[name].connected) {
      found[name].joined = await request(socket, "join-container", { containerId: config.containerId });
    }
    socket.disconnect();
  }
  return found;
}

const scenarios = { session, refusals, tokens };

scenarios[config.scenario]()
  .then((found) => {
    process.stdout.write(JSON.stringify(found) + "\n");
    process.exit(0);
  })
  .catch((err) => {
    process.stdout.write(JSON.stringify({ failed: String(err && err.stack ? err.stack : err) }) + "\n");
    process.exit(1);
  });
