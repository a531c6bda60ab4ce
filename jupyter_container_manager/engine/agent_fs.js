// File operations done by the agent itself, with Node's fs in its own process: no fork, no
// shell, and no thread: the calls are synchronous (a path's few system calls take
// microseconds; a hop through libuv's thread pool per call cost more than the calls), except
// a recursive rm, whose tree can be large. Appended to agent.js (one source). Each operation mirrors its sh script in
// fs_scripts.py check for check and answers the same Node codes:
//
// - the workdir and the parent of a path are resolved physically (realpath(3), as `cd -P`
//   does), and a parent outside the workdir's real path is refused with EACCES;
// - where the operation follows the last name (read, write, readdir, stat), a symlink there
//   is resolved as `readlink -f` resolves it and refused with EACCES when it leads out;
// - where it does not (mkdir, rm, rename), the last name is taken with lstat semantics.
//
// Between the check and the use, a folder could be swapped for a symlink by a process in
// the container, exactly as between a script's `cd -P` and its `cat`: the agent is no
// worse. It is better at the last name: files are opened with O_NOFOLLOW, so a last name
// swapped for a symlink after its check is refused (EACCES) instead of followed.
//
// Request (FS frame): JSON {op, workdir, path, ...}, a NUL, then the bytes of a write.
// Reply (FS_REPLY frame): JSON, a NUL, then the bytes of a read or a listing. The JSON is
// {code, syscall?} for an error, {fallback: true} for an operation the scripts must do
// (a file larger than the request's limit, a rename across file systems), else the result.
const fs = require('fs');
const fsp = fs.promises;
const FS = fs.constants;
const TEMP_PREFIX = '.jcm-tmp-';
const TEMP_BYTES = Buffer.from(TEMP_PREFIX);
const KNOWN_CODES = new Set(['ENOENT', 'EEXIST', 'ENOTDIR', 'EISDIR', 'ENOTEMPTY', 'EACCES',
  'EPERM', 'EINVAL', 'ENOSPC', 'EFBIG', 'ENAMETOOLONG']);
const SAME_CODES = { EROFS: 'EACCES', EDQUOT: 'ENOSPC' }; // as fs_scripts.code_from_stderr

class FsFailure extends Error {
  constructor(code, syscall) { super(code); this.code = code; this.syscall = syscall; }
}
function fail(code, syscall) { throw new FsFailure(code, syscall); }
function nodeCode(err) {
  const code = err && err.code;
  return SAME_CODES[code] || (KNOWN_CODES.has(code) ? code : 'EIO');
}
const NO_THROW = { throwIfNoEntry: false };
function statOrNull(p) { // `[ -e ]`, `[ -d ]`: follow
  try { return fs.statSync(p, NO_THROW) || null; } catch (err) { return null; }
}
function lstatOrNull(p) { // `[ -L ]`
  try { return fs.lstatSync(p, NO_THROW) || null; } catch (err) { return null; }
}
function can(p, mode) {
  try { fs.accessSync(p, mode); return true; } catch (err) { return false; }
}
const realpath = fs.realpathSync.native; // realpath(3), as fsp.realpath
const join = (dir, name) => (dir === '/' ? '' : dir) + '/' + name;
const parentOf = (p) => p.slice(0, p.lastIndexOf('/')) || '/';
const nameOf = (p) => p.slice(p.lastIndexOf('/') + 1);

// `cd -P -- dir`: its real path when it is a folder one may enter, else null.
function enter(dir) {
  let real;
  try { real = realpath(dir); } catch (err) { return null; }
  const s = statOrNull(real);
  if (!s || !s.isDirectory() || !can(real, FS.X_OK)) return null;
  return real;
}

// PRELUDE: L (the workdir as given) and W (its real path).
function context(workdir) {
  const W = enter(workdir);
  if (W === null) fail('ENOENT');
  return { L: workdir, W };
}
const inside = (ctx, p) => p === ctx.W || p.startsWith(ctx.W === '/' ? '/' : ctx.W + '/');

// PRELUDE's locate: the real parent (inside the workdir) and the last name as given.
function locate(ctx, p) {
  if (p === ctx.L) return ctx.W;
  const d = parentOf(p);
  const real = enter(d);
  if (real === null) fail(statOrNull(d) ? 'ENOTDIR' : 'ENOENT');
  if (!inside(ctx, real)) fail('EACCES');
  return join(real, nameOf(p));
}

// GNU `readlink -f`: every symlink followed; all but the last component must exist.
function readlinkF(p) {
  for (let hops = 0; hops < 40; hops++) {
    try { return realpath(p); } catch (err) { if (err.code !== 'ENOENT') return null; }
    const base = nameOf(p);
    if (base === '' || base === '.' || base === '..') return null;
    let dir;
    try { dir = realpath(parentOf(p)); } catch (err) { return null; }
    const here = join(dir, base);
    let target;
    try { target = fs.readlinkSync(here); } catch (err) {
      return err.code === 'ENOENT' ? here : null;
    }
    p = target.startsWith('/') ? target : join(dir, target);
  }
  return null;
}

// PRELUDE's follow: a symlink as the last name is resolved, and refused when it leads out.
function follow(ctx, T) {
  const s = lstatOrNull(T);
  if (!s || !s.isSymbolicLink()) return T;
  const real = readlinkF(T);
  if (real === null) fail('ENOENT');
  if (!inside(ctx, real)) fail('EACCES');
  return real;
}

function openNoFollow(path, flags, mode) {
  try { return fs.openSync(path, flags | FS.O_NOFOLLOW, mode); } catch (err) {
    // ELOOP: the checked name became a symlink since: refused, never followed.
    throw new FsFailure(err.code === 'ELOOP' ? 'EACCES' : nodeCode(err));
  }
}

// READ. Answers {size} and the bytes, or fallback past req.limit bytes.
function read(ctx, req) {
  const T = follow(ctx, locate(ctx, req.path));
  const s = statOrNull(T);
  if (!s) fail('ENOENT');
  if (s.isDirectory()) fail('EISDIR');
  if (!s.isFile()) fail('EINVAL');
  if (s.size > req.limit) return [{ fallback: true }];
  const fd = openNoFollow(T, FS.O_RDONLY);
  try {
    let data;
    try { data = fs.readFileSync(fd); } catch (err) { fail(nodeCode(err), 'read'); }
    if (data.length > req.limit) return [{ fallback: true }];
    return [{ size: data.length }, data];
  } finally {
    closeQuietly(fd);
  }
}

function closeQuietly(fd) {
  try { fs.closeSync(fd); } catch (err) { /* as a close that failed after a read */ }
}

function writeAll(fd, data) {
  for (let at = 0; at < data.length;) at += fs.writeSync(fd, data, at, data.length - at);
}

// WRITE: the bytes go to <folder>/.jcm-tmp-<token> (mode and owner of the old file), renamed
// over the file once all are written; a folder the user cannot write is written in place.
function write(ctx, req, data) {
  const T = follow(ctx, locate(ctx, req.path));
  const old = statOrNull(T);
  if (old && old.isDirectory()) fail('EISDIR');
  if (old && !can(T, FS.W_OK)) fail('EACCES');
  const D = parentOf(T);
  const temporary = join(D, TEMP_PREFIX + req.token);
  let fd = null;
  if (can(D, FS.W_OK)) {
    try {
      fd = fs.openSync(temporary, FS.O_WRONLY | FS.O_CREAT | FS.O_EXCL | FS.O_NOFOLLOW, 0o666);
    } catch (err) { fd = null; }
  }
  if (fd === null) { // in place, as `cat > "$T"`
    try { fd = openNoFollow(T, FS.O_WRONLY | FS.O_CREAT | FS.O_TRUNC, 0o666); } catch (err) {
      fail(err.code, 'write');
    }
    try { writeAll(fd, data); } catch (err) { fail(nodeCode(err), 'write'); } finally {
      closeQuietly(fd);
    }
    return [{}];
  }
  try {
    try {
      if (old) {
        try { fs.fchmodSync(fd, old.mode & 0o7777); } catch (err) { /* as chmod in the script */ }
        try { fs.fchownSync(fd, old.uid, old.gid); } catch (err) { /* not ours to give */ }
      }
      writeAll(fd, data);
    } finally {
      fs.closeSync(fd);
    }
    const now = lstatOrNull(T);
    if (now && now.isDirectory()) fail('EISDIR', 'write');
    fs.renameSync(temporary, T);
  } catch (err) {
    try { fs.unlinkSync(temporary); } catch (ignored) { /* gone already */ }
    if (err instanceof FsFailure) throw err;
    fail(nodeCode(err), 'write');
  }
  return [{}];
}

// MKDIR; recursive: the deepest existing folder must be inside, then each missing name is
// made with mkdir(2), which never follows a symlink (`mkdir -p` answers EEXIST there too).
function mkdir(ctx, req) {
  if (req.recursive) {
    let p = req.path;
    let real;
    while ((real = enter(p)) === null) {
      if (statOrNull(p)) fail(p === req.path ? 'EEXIST' : 'ENOTDIR');
      p = p.slice(0, p.lastIndexOf('/'));
      if (!p) fail('ENOENT');
    }
    if (!inside(ctx, real)) fail('EACCES');
    const missing = req.path.slice(p.length).split('/').filter(Boolean);
    let at = real;
    for (const name of missing) {
      at = join(at, name);
      try { fs.mkdirSync(at); } catch (err) {
        const s = err.code === 'EEXIST' ? lstatOrNull(at) : null;
        if (!s || !s.isDirectory()) fail(nodeCode(err));
      }
    }
    return [{}];
  }
  const T = locate(ctx, req.path);
  if (lstatOrNull(T)) fail('EEXIST');
  try { fs.mkdirSync(T); } catch (err) { fail(nodeCode(err)); }
  return [{}];
}

// RM; the last name is not followed: a symlink is removed, never what it leads to. A folder's
// tree is removed asynchronously (it can be large: the agent keeps serving meanwhile).
async function rm(ctx, req) {
  if (req.path === ctx.L) fail('EPERM');
  const T = locate(ctx, req.path);
  const link = lstatOrNull(T);
  if (!link) {
    if (req.force) return [{}];
    fail('ENOENT');
  }
  try {
    if (link.isDirectory()) {
      if (!req.recursive) fail('EISDIR');
      await fsp.rm(T, { recursive: true, force: true });
    } else {
      fs.unlinkSync(T);
    }
  } catch (err) {
    if (err instanceof FsFailure) throw err;
    if (!(err.code === 'ENOENT')) fail(nodeCode(err));
  }
  return [{}];
}

// RENAME: rename(2) semantics, the last names not followed.
function rename(ctx, req) {
  if (req.path === ctx.L || req.dest === ctx.L) fail('EPERM');
  const O = locate(ctx, req.path);
  const from = lstatOrNull(O);
  if (!from) fail('ENOENT');
  const N = locate(ctx, req.dest);
  if (O === N) return [{}];
  const to = lstatOrNull(N);
  try {
    if (from.isDirectory()) {
      if (N.startsWith(O + '/')) fail('EINVAL');
      if (to && (to.isSymbolicLink() || !to.isDirectory())) {
        // `[ -e "$N" ] && [ ! -d "$N" ]` follows: a link to a folder is ENOTDIR as well
        fail('ENOTDIR');
      }
      if (to) {
        try { fs.rmdirSync(N); } catch (err) { fail('ENOTEMPTY'); }
      }
    } else if (to && to.isDirectory()) {
      fail('EISDIR');
    } else if (to && to.isSymbolicLink()) {
      fs.unlinkSync(N);
    }
    fs.renameSync(O, N);
  } catch (err) {
    if (err instanceof FsFailure) throw err;
    if (err.code === 'EXDEV') return [{ fallback: true }]; // mv copies; so does the script
    fail(nodeCode(err));
  }
  return [{}];
}

// READDIR: "<t><name>\0" per entry (t: d, l or f), the temporaries left out, as the script.
function readdir(ctx, req) {
  const T = follow(ctx, locate(ctx, req.path));
  const s = statOrNull(T);
  if (!s) fail('ENOENT');
  if (!s.isDirectory()) fail('ENOTDIR');
  if (!can(T, FS.X_OK)) fail('EACCES');
  let entries;
  try {
    entries = fs.readdirSync(T, { withFileTypes: true, encoding: 'buffer' });
  } catch (err) {
    if (err.code !== 'EACCES') fail(nodeCode(err));
    entries = []; // the script's glob finds nothing in a folder it cannot read
  }
  let size = 0;
  const kept = [];
  for (const entry of entries) {
    const name = entry.name;
    if (name.length >= TEMP_BYTES.length && TEMP_BYTES.equals(name.subarray(0, TEMP_BYTES.length))) {
      continue;
    }
    kept.push(entry);
    size += name.length + 2;
  }
  const listing = Buffer.allocUnsafe(size);
  let at = 0;
  for (const entry of kept) {
    listing[at++] = entry.isSymbolicLink() ? 0x6c : entry.isDirectory() ? 0x64 : 0x66; // l d f
    at += entry.name.copy(listing, at);
    listing[at++] = 0;
  }
  return [{}, listing];
}

// STAT: follows a last symlink, as Node's fs.stat. mtime in seconds, mode raw st_mode.
function stat(ctx, req) {
  const T = follow(ctx, locate(ctx, req.path));
  const s = statOrNull(T);
  if (!s) fail('ENOENT');
  const kind = s.isDirectory() ? 'directory' : s.isFile() ? 'file' : 'other';
  return [{ kind, size: s.size, mtime: Math.floor(s.mtimeMs / 1000), mode: s.mode }];
}

const FS_OPS = { read, write, mkdir, rm, rename, readdir, stat };

function fsAnswer(channel, reply, out) {
  const head = Buffer.from(JSON.stringify(reply[0]) + '\0');
  out(T.FS_REPLY, channel, reply[1] ? Buffer.concat([head, reply[1]]) : head);
}

function fsError(err) {
  return err instanceof FsFailure ? [{ code: err.code, syscall: err.syscall }]
    : [{ code: nodeCode(err) }];
}

// `out` sends the reply: over the exec stream (send), or over the lane it came on, with
// that connection's uploads (agent_upload.js).
function fsRequest(channel, payload, out = send, uploads = null) {
  let reply;
  try {
    const cut = payload.indexOf(0);
    const req = JSON.parse(payload.subarray(0, cut < 0 ? payload.length : cut).toString('utf8'));
    const data = cut < 0 ? Buffer.alloc(0) : payload.subarray(cut + 1);
    const op = FS_OPS[req.op];
    if (!op) throw new FsFailure('EINVAL');
    reply = op(context(req.workdir), req, data, uploads);
  } catch (err) {
    reply = fsError(err);
  }
  if (reply instanceof Promise) {
    reply.then((done) => fsAnswer(channel, done, out),
      (err) => fsAnswer(channel, fsError(err), out));
  } else {
    fsAnswer(channel, reply, out);
  }
}
