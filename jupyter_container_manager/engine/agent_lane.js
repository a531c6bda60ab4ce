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
// the exec stream. LANE {close: true} closes the listener and its connections. A
// connection also carries large uploads (agent_upload.js): its temporaries are removed
// when it closes.
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
  const uploads = connectionUploads(); // this connection's uploads (agent_upload.js)
  let allowed = false;
  // What came and is not handled yet, as received: a large request is copied once, when
  // it is whole, not once per packet.
  let chunks = [];
  let have = 0;
  const take = (n) => { // the first n bytes (n <= have) as one buffer
    let first = chunks[0];
    if (first.length < n) {
      first = Buffer.concat(chunks, have);
      chunks = [first];
    }
    have -= n;
    if (first.length === n) chunks.shift();
    else chunks[0] = first.subarray(n);
    return first.subarray(0, n);
  };
  const timer = setTimeout(() => socket.destroy(), LANE_AUTH_MS);
  socket.on('error', () => {});
  socket.on('close', () => {
    clearTimeout(timer);
    sockets.delete(socket);
    dropUploads(uploads); // the server went away mid-upload: no temporary stays
  });
  socket.on('data', (data) => {
    chunks.push(data);
    have += data.length;
    if (!allowed) {
      if (have < secret.length) return;
      if (!crypto.timingSafeEqual(take(secret.length), secret)) {
        socket.destroy();
        return;
      }
      allowed = true;
      clearTimeout(timer);
      out(T.HELLO, 0, 'jcm-lane 1');
    }
    while (have >= 9) {
      if (chunks[0].length < 9) chunks = [Buffer.concat(chunks, have)];
      const head = chunks[0];
      if (head.readUInt8(0) !== T.FS) {
        socket.destroy();
        return;
      }
      const size = head.readUInt32BE(5);
      if (have < 9 + size) break;
      const channel = head.readUInt32BE(1);
      take(9);
      fsRequest(channel, size ? take(size) : Buffer.alloc(0), out, uploads);
    }
  });
}
