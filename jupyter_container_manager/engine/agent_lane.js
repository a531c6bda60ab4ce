// The lane: file operations over a direct TCP connection from the server, beside the exec
// stream, so a request and its reply skip dockerd and the containerd shim both ways.
// Appended to agent.js (one source).
//
// The server asks for it over the exec stream: LANE {host, port, secret}. The agent
// listens on host:port (the container's own address on its network; nothing publishes it
// on the Docker host) and answers {port}, or {code} (EADDRINUSE: the server picks another
// port). The secret (32 random bytes, hex) comes only that way: it is in no environment,
// argument, file or log, and the agent keeps it in memory. A connection must send the
// secret as its first bytes within LANE_AUTH_MS; anything else closes it without an
// answer. Once in, the agent says HELLO, then takes FS frames (any other type closes the
// connection) and answers each with one FS_REPLY on the same connection, exactly as on
// the exec stream. LANE {close: true} closes the listener and its connections.
const crypto = require('crypto');
const LANE_AUTH_MS = 2000;
const LANE_SECRET_BYTES = 32;
const LANE_CONNECTIONS = 4; // the server opens one; a few more while one is replaced
let lane = null; // { server, sockets }

function closeLane() {
  if (!lane) return;
  lane.server.close();
  for (const socket of lane.sockets) socket.destroy();
  lane = null;
}

function laneRequest(channel, payload) {
  const answer = (value) => fsAnswer(channel, [value], send);
  let req;
  try {
    const cut = payload.indexOf(0); // JSON, then a NUL, as an FS request
    req = JSON.parse(payload.subarray(0, cut < 0 ? payload.length : cut).toString('utf8'));
  } catch (err) {
    return answer({ code: 'EINVAL' });
  }
  closeLane();
  if (req.close) return answer({});
  const secret = Buffer.from(String(req.secret || ''), 'hex');
  if (secret.length !== LANE_SECRET_BYTES || !req.host) return answer({ code: 'EINVAL' });
  const sockets = new Set();
  const server = net.createServer((socket) => laneConnection(socket, secret, sockets));
  server.maxConnections = LANE_CONNECTIONS;
  let listening = false;
  server.on('error', (err) => {
    if (listening) return;
    answer({ code: String((err && err.code) || 'EIO') });
  });
  server.listen({ host: req.host, port: Number(req.port) || 0, exclusive: true }, () => {
    listening = true;
    lane = { server, sockets };
    answer({ port: server.address().port });
  });
}

function laneConnection(socket, secret, sockets) {
  sockets.add(socket);
  socket.setNoDelay(true);
  const out = (type, channel, payload) => sendTo(socket, type, channel, payload);
  let allowed = false;
  let pending = Buffer.alloc(0);
  const timer = setTimeout(() => socket.destroy(), LANE_AUTH_MS);
  socket.on('error', () => {});
  socket.on('close', () => { clearTimeout(timer); sockets.delete(socket); });
  socket.on('data', (data) => {
    pending = pending.length ? Buffer.concat([pending, data]) : data;
    if (!allowed) {
      if (pending.length < secret.length) return;
      if (!crypto.timingSafeEqual(pending.subarray(0, secret.length), secret)) {
        socket.destroy();
        return;
      }
      allowed = true;
      clearTimeout(timer);
      pending = pending.subarray(secret.length);
      out(T.HELLO, 0, 'jcm-lane 1');
    }
    while (pending.length >= 9) {
      if (pending.readUInt8(0) !== T.FS) {
        socket.destroy();
        return;
      }
      const size = pending.readUInt32BE(5);
      if (pending.length < 9 + size) break;
      fsRequest(pending.readUInt32BE(1), pending.subarray(9, 9 + size), out);
      pending = pending.subarray(9 + size);
    }
  });
}
