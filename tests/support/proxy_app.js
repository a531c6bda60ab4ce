// A preview app for the proxy tests: node's own http module, no npm.
// Run as `node -e "$(cat proxy_app.js)" PORT`; it listens on 0.0.0.0:PORT (or on
// BIND_HOST:PORT, e.g. 127.0.0.1 for a server that only the container itself reaches).
//   /echo...      any verb: {method, url, headers, body}
//   /upload       any verb: {bytes, sha256} of the body, read as a stream
//   /download     ?mb=N[&length=1]: N MiB of the byte pattern i % 251, chunked or with a length
//   /gate         "first\n" now, "second\n" after a GET /release
//   /slow         ?ms=N: "first\n" now, "last\n" N ms later
//   /events       server-sent events: one now, one more per GET /release, three in all
//   /page         HTML that reports whether it can load script.js, read cookies, call Jupyter
//   /redirect     302 to /echo/landed
//   /cookies      sets an app cookie and tries to set Jupyter's cookies
//   upgrade       WebSocket echo; its first message is {url, headers} of the handshake
const http = require('http');
const crypto = require('crypto');

const port = Number(process.argv[process.argv.length - 1]);
// A page that reports what it could do: load its own script, read cookies, call the
// Jupyter API (found from its own URL) with the browser's credentials.
const PAGE = `<!doctype html><title>page</title><script src="script.js"></script><script>
const report = {script: window.scriptRan ? 'ran' : 'blocked'};
try { document.cookie; report.cookies = 'readable'; } catch (e) { report.cookies = 'blocked'; }
const api = location.pathname.split('/containers/')[0] + '/api/contents';
fetch(api, {credentials: 'include'}).then((r) => { report.api = r.status; })
  .catch(() => { report.api = 'failed'; })
  .finally(() => { document.title = JSON.stringify(report); });
</script>`;
const waiting = [];

function pattern(size) {
  const buf = Buffer.alloc(size);
  for (let i = 0; i < size; i++) buf[i] = i % 251;
  return buf;
}
const BLOCK = pattern(251 * 256); // a whole number of periods, so blocks join seamlessly

function json(res, status, value) {
  res.writeHead(status, {'Content-Type': 'application/json'});
  res.end(JSON.stringify(value));
}

function download(req, res, query) {
  const total = Number(query.get('mb') || 1) * 1024 * 1024;
  const headers = {'Content-Type': 'application/octet-stream'};
  if (query.get('length')) headers['Content-Length'] = String(total);
  res.writeHead(200, headers);
  let sent = 0;
  (function more() {
    while (sent < total) {
      const n = Math.min(BLOCK.length, total - sent); // sent stays a multiple of 251
      sent += n;
      if (!res.write(BLOCK.subarray(0, n))) return res.once('drain', more);
    }
    res.end();
  })();
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://app');
  const path = url.pathname;
  if (path === '/upload') {
    const hash = crypto.createHash('sha256');
    let bytes = 0;
    req.on('data', (d) => { bytes += d.length; hash.update(d); });
    req.on('end', () => json(res, 200, {bytes, sha256: hash.digest('hex'), method: req.method}));
  } else if (path === '/download') {
    download(req, res, url.searchParams);
  } else if (path === '/gate') {
    res.writeHead(200, {'Content-Type': 'text/plain'});
    res.write('first\n');
    waiting.push(() => res.end('second\n'));
  } else if (path === '/events') {
    res.writeHead(200, {'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache'});
    let n = 1;
    res.write(`data: ${n}\n\n`);
    const next = () => {
      n += 1;
      res.write(`data: ${n}\n\n`);
      if (n < 3) waiting.push(next); else res.end();
    };
    waiting.push(next);
  } else if (path === '/slow') {
    res.writeHead(200, {'Content-Type': 'text/plain'});
    res.write('first\n');
    setTimeout(() => res.end('last\n'), Number(url.searchParams.get('ms') || 1000));
  } else if (path === '/page') {
    res.writeHead(200, {'Content-Type': 'text/html'});
    res.end(PAGE);
  } else if (path === '/script.js') {
    res.writeHead(200, {'Content-Type': 'text/javascript'});
    res.end('window.scriptRan = true;');
  } else if (path === '/release') {
    const release = waiting.splice(0);
    release.forEach((fn) => fn());
    json(res, 200, {released: release.length});
  } else if (path === '/redirect') {
    res.writeHead(302, {Location: '/echo/landed'});
    res.end();
  } else if (path === '/cookies') {
    res.writeHead(200, {
      'Set-Cookie': ['app=1; Path=/', '_xsrf=evil; Path=/', 'username-127-0-0-1-1=evil; Path=/'],
      'Content-Security-Policy': "default-src 'self'",
      'Content-Type': 'text/plain',
    });
    res.end('cookies');
  } else {
    const chunks = [];
    req.on('data', (d) => chunks.push(d));
    req.on('end', () => json(res, 200, {
      method: req.method, url: req.url, headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
    }));
  }
});

// --- WebSocket echo on the 'upgrade' event (RFC 6455, unfragmented frames) ----------
function frame(op, payload) {
  const n = payload.length;
  let head;
  if (n < 126) head = Buffer.from([0x80 | op, n]);
  else if (n < 65536) { head = Buffer.alloc(4); head[0] = 0x80 | op; head[1] = 126; head.writeUInt16BE(n, 2); }
  else { head = Buffer.alloc(10); head[0] = 0x80 | op; head[1] = 127; head.writeBigUInt64BE(BigInt(n), 2); }
  return Buffer.concat([head, payload]);
}

function parse(buf) {
  if (buf.length < 2) return null;
  const op = buf[0] & 0x0f;
  const masked = buf[1] & 0x80;
  let n = buf[1] & 0x7f;
  let off = 2;
  if (n === 126) { if (buf.length < 4) return null; n = buf.readUInt16BE(2); off = 4; }
  else if (n === 127) { if (buf.length < 10) return null; n = Number(buf.readBigUInt64BE(2)); off = 10; }
  const maskAt = off;
  if (masked) off += 4;
  if (buf.length < off + n) return null;
  const payload = Buffer.from(buf.subarray(off, off + n));
  if (masked) for (let i = 0; i < n; i++) payload[i] ^= buf[maskAt + (i % 4)];
  return {op, payload, size: off + n};
}

server.on('upgrade', (req, socket, head) => {
  const key = req.headers['sec-websocket-key'];
  const accept = crypto.createHash('sha1')
    .update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
  let answer = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n'
    + `Connection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n`;
  const protocols = req.headers['sec-websocket-protocol'];
  if (protocols) answer += `Sec-WebSocket-Protocol: ${protocols.split(',').pop().trim()}\r\n`;
  socket.write(answer + '\r\n');
  socket.write(frame(1, Buffer.from(JSON.stringify({url: req.url, headers: req.headers}))));
  let buf = head && head.length ? Buffer.from(head) : Buffer.alloc(0);
  socket.on('data', (data) => {
    buf = Buffer.concat([buf, data]);
    for (let f = parse(buf); f; f = parse(buf)) {
      buf = buf.subarray(f.size);
      if (f.op === 8) { socket.end(frame(8, f.payload)); return; }
      if (f.op === 9) socket.write(frame(10, f.payload));
      else if (f.op === 1 || f.op === 2) socket.write(frame(f.op, f.payload));
    }
  });
  socket.on('error', () => {});
});

server.listen(port, process.env.BIND_HOST || '0.0.0.0');
