// The resident agent of jupyter-container-manager: started once per container (node -e,
// over one long-lived docker exec), it runs the server's commands as child processes so a
// file operation or a spawn costs a fork here instead of a `docker exec` round trip.
//
// Frames both ways: type (1 byte), channel (uint32 BE), length (uint32 BE), payload.
// Server -> agent: SPAWN {argv, env} (JSON), STDIN data, STDIN_EOF, ACK n (uint32 BE:
// bytes the server has consumed on that channel), CLOSE (drop the child's pipes),
// CONNECT {port, hosts} (JSON: a TCP connection from inside the container, to the first
// of hosts that accepts; STDIN/STDIN_EOF/CLOSE then go to the socket).
// Agent -> server: HELLO, STDOUT data, STDERR data, EXIT code (text), FAILED message,
// CONNECTED (the connection of a CONNECT is open; its bytes then come as STDOUT).
// File operations, done in this process without a fork (agent_fs.js, appended to this
// source): FS request -> one FS_REPLY on the same channel number. LANE {host, port,
// secret} (or {close: true}) opens the lane (agent_lane.js): one FS_REPLY, {port} or
// {code}; FS requests then also come over it, and the requests of a large upload
// (agent_upload.js), which only it takes.
// Output is sent while less than WINDOW bytes of a channel are unacknowledged; then the
// child's pipe (or the socket) is paused, so a reader that stops reading stops the
// child, as with exec.
'use strict';
delete process.env.JCM_AGENT_SOURCE; // the children do not need it
const { spawn } = require('child_process');
const net = require('net');

const T = { HELLO: 1, STDOUT: 2, STDERR: 3, EXIT: 4, FAILED: 5, CONNECTED: 6, FS_REPLY: 7,
            SPAWN: 10, STDIN: 11, STDIN_EOF: 12, ACK: 13, CLOSE: 14, CONNECT: 15, FS: 16,
            LANE: 17 };
const WINDOW = 4 << 20;
const SMALL_FRAME = 64 << 10; // copied behind its header: one write instead of two
const channels = new Map();

function send(type, channel, payload) {
  sendTo(process.stdout, type, channel, payload);
}

function sendTo(out, type, channel, payload) {
  const body = payload === undefined ? Buffer.alloc(0)
    : Buffer.isBuffer(payload) ? payload : Buffer.from(String(payload));
  const head = Buffer.alloc(9);
  head.writeUInt8(type, 0);
  head.writeUInt32BE(channel, 1);
  head.writeUInt32BE(body.length, 5);
  if (body.length > SMALL_FRAME) {
    out.write(head);
    out.write(body);
  } else {
    out.write(body.length ? Buffer.concat([head, body]) : head); // one write, one frame
  }
}

function pump(state, stream, type) {
  stream.on('data', (data) => {
    state.unacked += data.length;
    send(type, state.channel, data);
    if (state.unacked > WINDOW) state.pause();
  });
}

function start(channel, request) {
  let child;
  try {
    child = spawn(request.argv[0], request.argv.slice(1), {
      env: Object.assign({}, process.env, request.env || {}),
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true // its own session and process group, as a docker exec has
    });
  } catch (err) {
    send(T.FAILED, channel, String(err && err.message));
    return;
  }
  const state = {
    channel, child, unacked: 0,
    pause: () => { child.stdout.pause(); child.stderr.pause(); },
    resume: () => { child.stdout.resume(); child.stderr.resume(); },
    write: (data) => child.stdin.write(data),
    end: () => child.stdin.end(),
    destroy: () => { child.stdin.destroy(); child.stdout.destroy(); child.stderr.destroy(); },
  };
  channels.set(channel, state);
  child.stdin.on('error', () => {});
  child.on('error', (err) => {
    channels.delete(channel);
    send(T.FAILED, channel, String(err && err.message));
  });
  pump(state, child.stdout, T.STDOUT);
  pump(state, child.stderr, T.STDERR);
  child.on('close', (code, signal) => {
    channels.delete(channel);
    send(T.EXIT, channel, String(code === null ? 128 + (require('os').constants.signals[signal] || 0) : code));
  });
}

// A connection to a port inside the container (the preview of a server that listens on
// localhost only), tried on each of hosts in turn until one accepts.
function connect(channel, request, index) {
  const hosts = request.hosts || ['127.0.0.1', '::1'];
  const socket = net.connect({ port: request.port, host: hosts[index] });
  let open = false;
  const state = {
    channel, socket, unacked: 0,
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    write: (data) => socket.write(data),
    end: () => socket.end(),
    destroy: () => socket.destroy(),
  };
  socket.on('error', (err) => {
    if (open) return; // 'close' follows and ends the channel
    if (index + 1 < hosts.length) return connect(channel, request, index + 1);
    channels.delete(channel);
    send(T.FAILED, channel, String(err && (err.code || err.message)));
  });
  socket.on('connect', () => {
    open = true;
    socket.setNoDelay(true);
    channels.set(channel, state);
    send(T.CONNECTED, channel);
    pump(state, socket, T.STDOUT);
  });
  socket.on('close', () => {
    if (!open) return;
    channels.delete(channel);
    send(T.EXIT, channel, '0');
  });
}

function handle(type, channel, payload) {
  const state = channels.get(channel);
  if (type === T.SPAWN) return start(channel, JSON.parse(payload.toString('utf8')));
  if (type === T.CONNECT) return connect(channel, JSON.parse(payload.toString('utf8')), 0);
  if (type === T.FS) return void fsRequest(channel, payload);
  if (type === T.LANE) return void laneRequest(channel, payload);
  if (!state) return;
  if (type === T.STDIN) state.write(payload);
  else if (type === T.STDIN_EOF) state.end();
  else if (type === T.ACK) {
    state.unacked -= payload.readUInt32BE(0);
    if (state.unacked <= WINDOW) state.resume();
  } else if (type === T.CLOSE) {
    channels.delete(channel);
    state.destroy();
  }
}

let pending = Buffer.alloc(0);
process.stdin.on('data', (data) => {
  pending = pending.length ? Buffer.concat([pending, data]) : data;
  while (pending.length >= 9) {
    const size = pending.readUInt32BE(5);
    if (pending.length < 9 + size) break;
    handle(pending.readUInt8(0), pending.readUInt32BE(1), pending.subarray(9, 9 + size));
    pending = pending.subarray(9 + size);
  }
});
process.stdin.on('end', () => process.exit(0));
process.stdout.on('error', () => process.exit(0));
send(T.HELLO, 0, 'jcm-agent 4');
