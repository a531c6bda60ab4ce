// Checkpoints of the workdir, file by file, done by the agent itself (appended to agent.js
// after agent_fs.js; engine/checkpoints.py says what they are). Three more file
// operations: checkpoint, checkpoints (the list) and restore.
//
// The store (req.store, outside the workdir) holds index.json and one folder per
// checkpoint with copies of the files it recorded. index.json:
//   {next, current: {path: meta}, checkpoints: [{id, created, files: {path: change},
//    stored: {path: meta}, bytes}]}
// where a path is from the workdir ("/src/a.js"), meta is [size, mtimeMs, mode, link?]
// and change "add", "change" or "unlink". `current` is the workdir as the last checkpoint
// saw it: a new checkpoint stats every file (names in req.ignore are not looked into)
// and copies only those whose size, mtime or mode differ from it. The state at
// checkpoint k of a path: the newest checkpoint j <= k that stored it (its content is in
// j's folder) or recorded its unlink. Past req.maxCount checkpoints or req.maxBytes
// bytes stored, the oldest is folded into the next (its copies that the next did not
// replace move there); a checkpoint that still does not fit is refused (EQUOTA).
// Blocking fs calls on purpose: a scan of 10,000 files is a few milliseconds of stat(2).
const cpfs = require('fs');
const INDEX = 'index.json';
const cpCache = new Map(); // store -> {stamp, index}
let cpQueue = Promise.resolve(); // one checkpoint operation at a time

function cpFail(code) { throw new FsFailure(code, 'checkpoint'); }
function metaOf(p, s) {
  const meta = [s.size, Math.floor(s.mtimeMs), s.mode];
  if (s.isSymbolicLink()) meta.push(cpfs.readlinkSync(p));
  return meta;
}
const sameMeta = (a, b) => !!a && !!b && a[0] === b[0] && a[1] === b[1] && a[2] === b[2]
  && a[3] === b[3];
const isLink = (meta) => meta.length > 3;

function scan(W, ignore) {
  const found = new Map();
  const walk = (dir, rel) => {
    let entries;
    try { entries = cpfs.readdirSync(dir, { withFileTypes: true }); } catch (err) { return; }
    for (const entry of entries) {
      const name = entry.name;
      if (ignore.has(name) || name.startsWith(TEMP_PREFIX)) continue;
      const abs = dir + '/' + name;
      const path = rel + '/' + name;
      if (entry.isDirectory()) { walk(abs, path); continue; }
      if (!entry.isFile() && !entry.isSymbolicLink()) continue;
      try { found.set(path, metaOf(abs, cpfs.lstatSync(abs))); } catch (err) { /* gone */ }
    }
  };
  walk(W, '');
  return found;
}

function loadIndex(store) {
  const file = store + '/' + INDEX;
  let stamp = '';
  try { const s = cpfs.statSync(file); stamp = s.mtimeMs + ':' + s.size; } catch (err) { /* none */ }
  const cached = cpCache.get(store);
  if (cached && cached.stamp === stamp) return cached.index;
  let index = { next: 1, current: {}, checkpoints: [] };
  if (stamp) {
    try { index = JSON.parse(cpfs.readFileSync(file, 'utf8')); } catch (err) { /* fresh */ }
  }
  cpCache.set(store, { stamp, index });
  return index;
}

function saveIndex(store, index) {
  const file = store + '/' + INDEX;
  cpfs.writeFileSync(file + '.new', JSON.stringify(index));
  cpfs.renameSync(file + '.new', file);
  const s = cpfs.statSync(file);
  cpCache.set(store, { stamp: s.mtimeMs + ':' + s.size, index });
}

const cpDir = (store, id) => store + '/' + id;
const storedBytes = (index) => index.checkpoints.reduce((n, cp) => n + cp.bytes, 0);

function removeTree(p) { cpfs.rmSync(p, { recursive: true, force: true }); }

// Fold the oldest checkpoint into the next: copies the next did not replace move on.
// With `dry`, only the index changes (to learn what folding would leave).
function foldOldest(store, index, dry) {
  const [a, b] = index.checkpoints;
  for (const [path, meta] of Object.entries(a.stored)) {
    if (b.files[path] !== undefined || b.stored[path] !== undefined) continue; // replaced
    if (!isLink(meta)) {
      if (!dry) {
        const to = cpDir(store, b.id) + path;
        cpfs.mkdirSync(to.slice(0, to.lastIndexOf('/')), { recursive: true });
        cpfs.renameSync(cpDir(store, a.id) + path, to);
      }
      b.bytes += meta[0];
    }
    b.stored[path] = meta;
  }
  if (!dry) removeTree(cpDir(store, a.id));
  index.checkpoints.shift();
}

// Fold the oldest checkpoints while the bounds say so; false (nothing folded) when the
// new one, of `bytes`, would not fit even then.
function makeRoom(store, index, maxCount, maxBytes, bytes) {
  const over = (ix) => ix.checkpoints.length >= maxCount || storedBytes(ix) + bytes > maxBytes;
  const trial = JSON.parse(JSON.stringify(index));
  while (trial.checkpoints.length >= 2 && over(trial)) foldOldest(store, trial, true);
  if (over(trial)) return false;
  while (index.checkpoints.length >= 2 && over(index)) foldOldest(store, index, false);
  return true;
}

function checkpointNow(ctx, req) {
  const store = req.store;
  cpfs.mkdirSync(store, { recursive: true, mode: 0o700 });
  const index = loadIndex(store);
  const now = scan(ctx.W, new Set(req.ignore || []));
  const files = {};
  const stored = {};
  let bytes = 0;
  for (const [path, meta] of now) {
    const before = index.current[path];
    if (sameMeta(before, meta)) continue;
    files[path] = before ? 'change' : 'add';
    stored[path] = meta;
    if (!isLink(meta)) bytes += meta[0];
  }
  for (const path of Object.keys(index.current)) {
    if (!now.has(path)) files[path] = 'unlink';
  }
  const maxCount = Math.max(2, req.maxCount || 2);
  if (!makeRoom(store, index, maxCount, req.maxBytes, bytes)) {
    return [{ code: 'EQUOTA', bytes, stored: storedBytes(index) }];
  }
  const id = String(index.next);
  const dir = cpDir(store, id);
  removeTree(dir);
  cpfs.mkdirSync(dir, { mode: 0o700 });
  const made = new Set([dir]);
  for (const [path, meta] of Object.entries(stored)) {
    if (isLink(meta)) continue;
    const to = dir + path;
    const parent = to.slice(0, to.lastIndexOf('/'));
    if (!made.has(parent)) { cpfs.mkdirSync(parent, { recursive: true }); made.add(parent); }
    try {
      cpfs.copyFileSync(ctx.W + path, to);
    } catch (err) { // gone or unreadable since the scan: not recorded
      delete stored[path];
      bytes -= meta[0];
      if (index.current[path]) files[path] = 'unlink'; else delete files[path];
    }
  }
  const checkpoint = { id, created: new Date().toISOString(), files, stored, bytes };
  index.checkpoints.push(checkpoint);
  index.next += 1;
  const current = {};
  for (const [path, meta] of now) if (files[path] !== 'unlink') current[path] = meta;
  index.current = current;
  saveIndex(store, index);
  return [describeCheckpoint(checkpoint)];
}

function describeCheckpoint(cp) {
  return { id: cp.id, created: cp.created, size: cp.bytes,
           files: Object.entries(cp.files).map(([path, change]) => ({ path, change })) };
}

function listCheckpoints(ctx, req) {
  const index = loadIndex(req.store);
  return [{ checkpoints: index.checkpoints.map(describeCheckpoint) }];
}

// [meta, folder] of a path at checkpoint position k, or null when it did not exist.
function stateAt(store, index, k, path) {
  for (let j = k; j >= 0; j--) {
    const cp = index.checkpoints[j];
    if (cp.stored[path] !== undefined) return [cp.stored[path], cpDir(store, cp.id)];
    if (cp.files[path] === 'unlink') return null;
  }
  return null;
}

function restoreCheckpoint(ctx, req) {
  const store = req.store;
  const index = loadIndex(store);
  const k = index.checkpoints.findIndex((cp) => cp.id === String(req.checkpoint));
  if (k < 0) return [{ code: 'ENOCHECKPOINT' }];
  const wanted = req.paths; // null: all; else paths from the workdir ("/src")
  const chosen = (path) => !wanted || wanted.some((w) => w === '/' || path === w
                                                   || path.startsWith(w + '/'));
  const now = scan(ctx.W, new Set(req.ignore || []));
  const known = new Set();
  for (let j = 0; j <= k; j++) {
    for (const path of Object.keys(index.checkpoints[j].stored)) known.add(path);
  }
  for (const path of now.keys()) known.add(path);
  const plan = [];
  for (const path of known) {
    if (!chosen(path)) continue;
    const want = stateAt(store, index, k, path);
    const have = now.get(path);
    if (want ? sameMeta(want[0], have) : !have) continue;
    guardInside(ctx, parentOf(ctx.W + path)); // all checked before anything changes
    plan.push([path, want, have]);
  }
  const changed = [];
  for (const [path, want, have] of plan) {
    const target = ctx.W + path;
    const parent = parentOf(target);
    if (!want) {
      cpfs.rmSync(target, { force: true });
      changed.push({ path, kind: 'unlink' });
      continue;
    }
    const [meta, folder] = want;
    cpfs.mkdirSync(parent, { recursive: true });
    const temp = parent + '/' + TEMP_PREFIX + 'restore-' + process.pid + '-' + changed.length;
    if (isLink(meta)) {
      cpfs.symlinkSync(meta[3], temp);
    } else {
      cpfs.copyFileSync(folder + path, temp);
      cpfs.chmodSync(temp, meta[2] & 0o7777);
      const when = new Date(meta[1]);
      cpfs.utimesSync(temp, when, when);
    }
    if (have === undefined) {
      try { if (cpfs.lstatSync(target).isDirectory()) cpfs.rmSync(target, { recursive: true }); } catch (err) { /* none */ }
    }
    cpfs.renameSync(temp, target);
    changed.push({ path, kind: have ? 'change' : 'add' });
  }
  return [{ restored: changed }];
}

// A folder (its nearest existing ancestor: the rest is made) reached through a symlink
// that leads out of the workdir: EACCES.
function guardInside(ctx, dir) {
  for (;;) {
    let real = null;
    try { real = cpfs.realpathSync(dir); } catch (err) { /* not there (yet) */ }
    if (real !== null) { if (!inside(ctx, real)) cpFail('EACCES'); return; }
    if (dir === ctx.W || dir === '/' || !dir) return;
    dir = parentOf(dir);
  }
}

function serialised(fn) {
  return (ctx, req) => {
    const run = cpQueue.then(() => fn(ctx, req));
    cpQueue = run.catch(() => {});
    return run;
  };
}

Object.assign(FS_OPS, {
  checkpoint: serialised(checkpointNow),
  checkpoints: serialised(listCheckpoints),
  restore: serialised(restoreCheckpoint),
});
