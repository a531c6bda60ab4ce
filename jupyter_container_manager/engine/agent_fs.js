// File operations done by the agent itself, with Node's fs in its own process: no fork, no
// shell. Appended to agent.js (one source). Each operation mirrors its sh script in
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
const fsp = require('fs').promises;
const FS = require('fs').constants;
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
const statOrNull = (p) => fsp.stat(p).catch(() => null); // `[ -e ]`, `[ -d ]`: follow
const lstatOrNull = (p) => fsp.lstat(p).catch(() => null); // `[ -L ]`
const can = (p, mode) => fsp.access(p, mode).then(() => true, () => false);
const join = (dir, name) => (dir === '/' ? '' : dir) + '/' + name;
const parentOf = (p) => p.slice(0, p.lastIndexOf('/')) || '/';
const nameOf = (p) => p.slice(p.lastIndexOf('/') + 1);

// `cd -P -- dir`: its real path when it is a folder one may enter, else null.
async function enter(dir) {
  let real;
  try { real = await fsp.realpath(dir); } catch (err) { return null; }
  const s = await statOrNull(real);
  if (!s || !s.isDirectory() || !(await can(real, FS.X_OK))) return null;
  return real;
}

// PRELUDE: L (the workdir as given) and W (its real path).
async function context(workdir) {
  const W = await enter(workdir);
  if (W === null) fail('ENOENT');
  return { L: workdir, W };
}
const inside = (ctx, p) => p === ctx.W || p.startsWith(ctx.W === '/' ? '/' : ctx.W + '/');

// PRELUDE's locate: the real parent (inside the workdir) and the last name as given.
async function locate(ctx, p) {
  if (p === ctx.L) return ctx.W;
  const d = parentOf(p);
  const real = await enter(d);
  if (real === null) fail((await statOrNull(d)) ? 'ENOTDIR' : 'ENOENT');
  if (!inside(ctx, real)) fail('EACCES');
  return join(real, nameOf(p));
}

// GNU `readlink -f`: every symlink followed; all but the last component must exist.
async function readlinkF(p) {
  for (let hops = 0; hops < 40; hops++) {
    try { return await fsp.realpath(p); } catch (err) { if (err.code !== 'ENOENT') return null; }
    const base = nameOf(p);
    if (base === '' || base === '.' || base === '..') return null;
    let dir;
    try { dir = await fsp.realpath(parentOf(p)); } catch (err) { return null; }
    const here = join(dir, base);
    let target;
    try { target = await fsp.readlink(here); } catch (err) {
      return err.code === 'ENOENT' ? here : null;
    }
    p = target.startsWith('/') ? target : join(dir, target);
  }
  return null;
}

// PRELUDE's follow: a symlink as the last name is resolved, and refused when it leads out.
async function follow(ctx, T) {
  const s = await lstatOrNull(T);
  if (!s || !s.isSymbolicLink()) return T;
  const real = await readlinkF(T);
  if (real === null) fail('ENOENT');
  if (!inside(ctx, real)) fail('EACCES');
  return real;
}

async function openNoFollow(path, flags, mode) {
  try { return await fsp.open(path, flags | FS.O_NOFOLLOW, mode); } catch (err) {
    // ELOOP: the checked name became a symlink since: refused, never followed.
    throw new FsFailure(err.code === 'ELOOP' ? 'EACCES' : nodeCode(err));
  }
}

// READ. Answers {size} and the bytes, or fallback past req.limit bytes.
async function read(ctx, req) {
  const T = await follow(ctx, await locate(ctx, req.path));
  const s = await statOrNull(T);
  if (!s) fail('ENOENT');
  if (s.isDirectory()) fail('EISDIR');
  if (!s.isFile()) fail('EINVAL');
  if (s.size > req.limit) return [{ fallback: true }];
  const handle = await openNoFollow(T, FS.O_RDONLY);
  try {
    let data;
    try { data = await handle.readFile(); } catch (err) { fail(nodeCode(err), 'read'); }
    if (data.length > req.limit) return [{ fallback: true }];
    return [{ size: data.length }, data];
  } finally {
    await handle.close().catch(() => {});
  }
}

// WRITE: the bytes go to <folder>/.jcm-tmp-<token> (mode and owner of the old file), renamed
// over the file once all are written; a folder the user cannot write is written in place.
// With req.check: the checks only (the bytes of an upload come later, in a second request).
async function write(ctx, req, data) {
  const T = await follow(ctx, await locate(ctx, req.path));
  const old = await statOrNull(T);
  if (old && old.isDirectory()) fail('EISDIR');
  if (old && !(await can(T, FS.W_OK))) fail('EACCES');
  if (req.check) return [{}];
  const D = parentOf(T);
  const temporary = join(D, TEMP_PREFIX + req.token);
  let handle = null;
  if (await can(D, FS.W_OK)) {
    handle = await fsp.open(temporary, FS.O_WRONLY | FS.O_CREAT | FS.O_EXCL | FS.O_NOFOLLOW,
      0o666).catch(() => null);
  }
  if (handle === null) { // in place, as `cat > "$T"`
    handle = await openNoFollow(T, FS.O_WRONLY | FS.O_CREAT | FS.O_TRUNC, 0o666)
      .catch((err) => fail(err.code, 'write'));
    try { await handle.writeFile(data); } catch (err) { fail(nodeCode(err), 'write'); } finally {
      await handle.close().catch(() => {});
    }
    return [{}];
  }
  try {
    try {
      if (old) {
        await handle.chmod(old.mode & 0o7777).catch(() => {});
        await handle.chown(old.uid, old.gid).catch(() => {});
      }
      await handle.writeFile(data);
    } finally {
      await handle.close();
    }
    const now = await lstatOrNull(T);
    if (now && now.isDirectory()) fail('EISDIR', 'write');
    await fsp.rename(temporary, T);
  } catch (err) {
    await fsp.unlink(temporary).catch(() => {});
    if (err instanceof FsFailure) throw err;
    fail(nodeCode(err), 'write');
  }
  return [{}];
}

// MKDIR; recursive: the deepest existing folder must be inside, then each missing name is
// made with mkdir(2), which never follows a symlink (`mkdir -p` answers EEXIST there too).
async function mkdir(ctx, req) {
  if (req.recursive) {
    let p = req.path;
    let real;
    while ((real = await enter(p)) === null) {
      if (await statOrNull(p)) fail(p === req.path ? 'EEXIST' : 'ENOTDIR');
      p = p.slice(0, p.lastIndexOf('/'));
      if (!p) fail('ENOENT');
    }
    if (!inside(ctx, real)) fail('EACCES');
    const missing = req.path.slice(p.length).split('/').filter(Boolean);
    let at = real;
    for (const name of missing) {
      at = join(at, name);
      try { await fsp.mkdir(at); } catch (err) {
        const s = err.code === 'EEXIST' ? await lstatOrNull(at) : null;
        if (!s || !s.isDirectory()) fail(nodeCode(err));
      }
    }
    return [{}];
  }
  const T = await locate(ctx, req.path);
  if (await lstatOrNull(T)) fail('EEXIST');
  try { await fsp.mkdir(T); } catch (err) { fail(nodeCode(err)); }
  return [{}];
}

// RM; the last name is not followed: a symlink is removed, never what it leads to.
async function rm(ctx, req) {
  if (req.path === ctx.L) fail('EPERM');
  const T = await locate(ctx, req.path);
  const link = await lstatOrNull(T);
  if (!link) {
    if (req.force) return [{}];
    fail('ENOENT');
  }
  try {
    if (link.isDirectory()) {
      if (!req.recursive) fail('EISDIR');
      await fsp.rm(T, { recursive: true, force: true });
    } else {
      await fsp.unlink(T);
    }
  } catch (err) {
    if (err instanceof FsFailure) throw err;
    if (!(err.code === 'ENOENT')) fail(nodeCode(err));
  }
  return [{}];
}

// RENAME: rename(2) semantics, the last names not followed.
async function rename(ctx, req) {
  if (req.path === ctx.L || req.dest === ctx.L) fail('EPERM');
  const O = await locate(ctx, req.path);
  const from = await lstatOrNull(O);
  if (!from) fail('ENOENT');
  const N = await locate(ctx, req.dest);
  if (O === N) return [{}];
  const to = await lstatOrNull(N);
  try {
    if (from.isDirectory()) {
      if (N.startsWith(O + '/')) fail('EINVAL');
      if (to && (to.isSymbolicLink() || !to.isDirectory())) {
        // `[ -e "$N" ] && [ ! -d "$N" ]` follows: a link to a folder is ENOTDIR as well
        fail('ENOTDIR');
      }
      if (to) await fsp.rmdir(N).catch(() => fail('ENOTEMPTY'));
    } else if (to && to.isDirectory()) {
      fail('EISDIR');
    } else if (to && to.isSymbolicLink()) {
      await fsp.unlink(N);
    }
    await fsp.rename(O, N);
  } catch (err) {
    if (err instanceof FsFailure) throw err;
    if (err.code === 'EXDEV') return [{ fallback: true }]; // mv copies; so does the script
    fail(nodeCode(err));
  }
  return [{}];
}

// READDIR: "<t><name>\0" per entry (t: d, l or f), the temporaries left out, as the script.
async function readdir(ctx, req) {
  const T = await follow(ctx, await locate(ctx, req.path));
  const s = await statOrNull(T);
  if (!s) fail('ENOENT');
  if (!s.isDirectory()) fail('ENOTDIR');
  if (!(await can(T, FS.X_OK))) fail('EACCES');
  let entries;
  try {
    entries = await fsp.readdir(T, { withFileTypes: true, encoding: 'buffer' });
  } catch (err) {
    if (err.code !== 'EACCES') fail(nodeCode(err));
    entries = []; // the script's glob finds nothing in a folder it cannot read
  }
  const parts = [];
  for (const entry of entries) {
    const name = entry.name;
    if (name.length >= TEMP_BYTES.length && TEMP_BYTES.equals(name.subarray(0, TEMP_BYTES.length))) {
      continue;
    }
    const t = entry.isSymbolicLink() ? 'l' : entry.isDirectory() ? 'd' : 'f';
    parts.push(Buffer.from(t), name, Buffer.alloc(1));
  }
  return [{}, Buffer.concat(parts)];
}

// STAT: follows a last symlink, as Node's fs.stat. mtime in seconds, mode raw st_mode.
async function stat(ctx, req) {
  const T = await follow(ctx, await locate(ctx, req.path));
  const s = await statOrNull(T);
  if (!s) fail('ENOENT');
  const kind = s.isDirectory() ? 'directory' : s.isFile() ? 'file' : 'other';
  return [{ kind, size: s.size, mtime: Math.floor(s.mtimeMs / 1000), mode: s.mode }];
}

const FS_OPS = { read, write, mkdir, rm, rename, readdir, stat };

async function fsRequest(channel, payload) {
  let reply;
  try {
    const cut = payload.indexOf(0);
    const req = JSON.parse(payload.subarray(0, cut < 0 ? payload.length : cut).toString('utf8'));
    const data = cut < 0 ? Buffer.alloc(0) : payload.subarray(cut + 1);
    const op = FS_OPS[req.op];
    if (!op) throw new FsFailure('EINVAL');
    reply = await op(await context(req.workdir), req, data);
  } catch (err) {
    reply = err instanceof FsFailure ? [{ code: err.code, syscall: err.syscall }]
      : [{ code: nodeCode(err) }];
  }
  const head = Buffer.from(JSON.stringify(reply[0]) + '\0');
  send(T.FS_REPLY, channel, reply[1] ? Buffer.concat([head, reply[1]]) : head);
}
