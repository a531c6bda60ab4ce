// Checkpoints of the workdir, file by file, done by the agent itself (appended to agent.js
// after agent_fs.js; engine/checkpoints.py says what they are). Three more file
// operations: checkpoint, checkpoints (the list) and restore.
//
// The store (req.store, outside the workdir): index.json {next, ids}, and per checkpoint
// a folder <id>/ with record.json {id, created, files: {path: change}, stored: {path:
// meta}, bytes} and files/<path>, the copies it keeps. A path is from the workdir
// ("/src/a.js"), meta [size, mtimeMs, mode, link?], change "add", "change" or "unlink".
// The workdir as the last checkpoint saw it ("current") is the replay of every record
// (stored sets a path, unlink removes it); it is kept in memory.
//
// Cheap: a checkpoint compares with "current" only what may have changed. From its first
// checkpoint on, the agent watches the workdir's folders (inotify, one watch per folder;
// names in req.ignore are neither watched nor recorded) and notes the names events
// report; the next checkpoint stats only those. Without a watch that ran since the last
// checkpoint (a new agent, too many folders, a watch that failed) it stats every file.
// The state at checkpoint k of a path: the newest checkpoint j <= k that stored it (its
// copy is in j's folder) or recorded its unlink. Past req.maxCount checkpoints or
// req.maxBytes bytes of copies, the oldest is folded into the next (its copies that the
// next did not replace move there); one that would not fit even then is refused (EQUOTA)
// and nothing changes. Blocking fs calls on purpose: a few stats and copies.
const cpfs = require('fs');
const MAX_WATCHED_DIRS = 4000;
const MAX_DIRTY = 50000; // names noted between two checkpoints; past it, a full look
const stores = new Map(); // store -> state (below)
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
const storedBytes = (records) => records.reduce((n, cp) => n + cp.bytes, 0);
const removeTree = (p) => cpfs.rmSync(p, { recursive: true, force: true });
const under = (path, dir) => dir === '' || path.startsWith(dir + '/');

// Every file and symlink below `rel` ('' : the workdir) into `found`; folders into `dirs`.
function scanInto(W, rel, ignore, found, dirs) {
  let entries;
  try { entries = cpfs.readdirSync(W + rel, { withFileTypes: true }); } catch (err) { return; }
  if (dirs) dirs.push(rel);
  for (const entry of entries) {
    const name = entry.name;
    if (ignore.has(name) || name.startsWith(TEMP_PREFIX)) continue;
    const path = rel + '/' + name;
    if (entry.isDirectory()) { scanInto(W, path, ignore, found, dirs); continue; }
    if (!entry.isFile() && !entry.isSymbolicLink()) continue;
    try { found.set(path, metaOf(W + path, cpfs.lstatSync(W + path))); } catch (err) { /* gone */ }
  }
}

// --- the store on disk and in memory ------------------------------------------------

function stampOf(store) {
  try { const s = cpfs.statSync(store + '/index.json'); return s.mtimeMs + ':' + s.size; } catch (err) { return ''; }
}

function loadState(store, W, ignoreKey) {
  const stamp = stampOf(store);
  const known = stores.get(store);
  if (known && known.stamp === stamp && known.W === W && known.ignoreKey === ignoreKey) return known;
  if (known) stopWatching(known);
  let index = { next: 1, ids: [] };
  if (stamp) { try { index = JSON.parse(cpfs.readFileSync(store + '/index.json', 'utf8')); } catch (err) { /* fresh */ } }
  const records = [];
  for (const id of index.ids) {
    try { records.push(JSON.parse(cpfs.readFileSync(`${store}/${id}/record.json`, 'utf8'))); } catch (err) { /* lost */ }
  }
  const current = new Map();
  for (const cp of records) {
    for (const [path, change] of Object.entries(cp.files)) if (change === 'unlink') current.delete(path);
    for (const [path, meta] of Object.entries(cp.stored)) current.set(path, meta);
  }
  const state = { store, W, ignoreKey, stamp, next: index.next, records, current,
                  watchers: new Map(), watching: false, dirty: new Set() };
  stores.set(store, state);
  return state;
}

function saveIndex(state) {
  const file = state.store + '/index.json';
  cpfs.writeFileSync(file + '.new', JSON.stringify({ next: state.next,
                                                     ids: state.records.map((cp) => cp.id) }));
  cpfs.renameSync(file + '.new', file);
  state.stamp = stampOf(state.store);
}

function saveRecord(state, cp) {
  const file = `${state.store}/${cp.id}/record.json`;
  cpfs.writeFileSync(file + '.new', JSON.stringify(cp));
  cpfs.renameSync(file + '.new', file);
}

const copyOf = (store, id, path) => `${store}/${id}/files${path}`;

// --- watching the workdir's folders -------------------------------------------------

function stopWatching(state) {
  for (const watcher of state.watchers.values()) { try { watcher.close(); } catch (err) { /* closed */ } }
  state.watchers.clear();
  state.watching = false;
}

function watchDir(state, rel) {
  if (state.watchers.has(rel)) return;
  if (state.watchers.size >= MAX_WATCHED_DIRS) { stopWatching(state); return; }
  try {
    const watcher = cpfs.watch(state.W + rel, { persistent: false }, (event, name) => {
      state.dirty.add(name ? rel + '/' + name : rel); // a folder itself: all of it
      if (state.dirty.size > MAX_DIRTY) stopWatching(state); // a full look is cheaper
    });
    watcher.on('error', () => { stopWatching(state); });
    state.watchers.set(rel, watcher);
  } catch (err) {
    stopWatching(state);
  }
}

// What may have changed since the last checkpoint, as a map of the files now there
// (`now`) and the set of paths looked at (`seen`); null `seen`: everything was looked at.
function lookAtChanges(state, ignore) {
  const W = state.W;
  if (!state.watching) {
    stopWatching(state);
    state.watching = true;
    state.dirty = new Set();
    const now = new Map();
    const dirs = [];
    scanInto(W, '', ignore, now, dirs);
    for (const rel of dirs) { watchDir(state, rel); if (!state.watching) break; }
    return { now, seen: null };
  }
  const dirty = state.dirty;
  state.dirty = new Set();
  const now = new Map();
  const seen = [];
  for (const path of dirty) {
    const name = path.slice(path.lastIndexOf('/') + 1);
    if (path !== '' && (ignore.has(name) || name.startsWith(TEMP_PREFIX))) continue;
    if (path.split('/').some((part) => ignore.has(part))) continue;
    let s = null;
    try { s = cpfs.lstatSync(W + path); } catch (err) { /* gone */ }
    if (s && s.isDirectory()) {
      const dirs = [];
      scanInto(W, path, ignore, now, dirs);
      for (const rel of dirs) watchDir(state, rel);
      seen.push(path); // the whole folder
    } else if (s && (s.isFile() || s.isSymbolicLink())) {
      now.set(path, metaOf(W + path, s));
      seen.push(path);
    } else {
      seen.push(path); // gone: and all below it
      const watcher = state.watchers.get(path);
      if (watcher) { try { watcher.close(); } catch (err) { /* closed */ } state.watchers.delete(path); }
    }
  }
  return { now, seen };
}

// --- the operations ---------------------------------------------------------------------

// Fold the oldest record into the next. With `dry`, only the records change.
function foldOldest(store, records, dry) {
  const [a, b] = records;
  for (const [path, meta] of Object.entries(a.stored)) {
    if (b.files[path] !== undefined || b.stored[path] !== undefined) continue; // replaced
    if (!isLink(meta)) {
      if (!dry) {
        const to = copyOf(store, b.id, path);
        cpfs.mkdirSync(parentOf(to), { recursive: true });
        cpfs.renameSync(copyOf(store, a.id, path), to);
      }
      b.bytes += meta[0];
    }
    b.stored[path] = meta;
  }
  if (!dry) removeTree(`${store}/${a.id}`);
  records.shift();
}

function makeRoom(state, maxCount, maxBytes, bytes) {
  const over = (records) => records.length >= maxCount || storedBytes(records) + bytes > maxBytes;
  if (!over(state.records)) return true;
  const trial = JSON.parse(JSON.stringify(state.records));
  while (trial.length >= 2 && over(trial)) foldOldest(state.store, trial, true);
  if (over(trial)) return false;
  while (state.records.length >= 2 && over(state.records)) foldOldest(state.store, state.records, false);
  saveRecord(state, state.records[0]);
  return true;
}

function checkpointNow(ctx, req) {
  const store = req.store;
  cpfs.mkdirSync(store, { recursive: true, mode: 0o700 });
  const ignore = new Set(req.ignore || []);
  const state = loadState(store, ctx.W, JSON.stringify(req.ignore || []));
  const { now, seen } = lookAtChanges(state, ignore);
  const files = {};
  const stored = {};
  let bytes = 0;
  for (const [path, meta] of now) {
    const before = state.current.get(path);
    if (sameMeta(before, meta)) continue;
    files[path] = before ? 'change' : 'add';
    stored[path] = meta;
    if (!isLink(meta)) bytes += meta[0];
  }
  for (const path of state.current.keys()) {
    if (now.has(path)) continue;
    if (seen === null || seen.some((dir) => path === dir || under(path, dir))) files[path] = 'unlink';
  }
  const maxCount = Math.max(2, req.maxCount || 2);
  if (!makeRoom(state, maxCount, req.maxBytes, bytes)) {
    for (const path of seen || [...now.keys()]) state.dirty.add(path); // look again next time
    if (seen === null) state.watching = false;
    return [{ code: 'EQUOTA', bytes, stored: storedBytes(state.records) }];
  }
  const id = String(state.next);
  const dir = `${store}/${id}`;
  removeTree(dir);
  cpfs.mkdirSync(dir + '/files', { recursive: true, mode: 0o700 });
  const made = new Set([dir + '/files']);
  for (const [path, meta] of Object.entries(stored)) {
    if (isLink(meta)) continue;
    const to = copyOf(store, id, path);
    const parent = parentOf(to);
    if (!made.has(parent)) { cpfs.mkdirSync(parent, { recursive: true }); made.add(parent); }
    try {
      cpfs.copyFileSync(ctx.W + path, to);
    } catch (err) { // gone or unreadable since it was looked at: not recorded
      delete stored[path];
      bytes -= meta[0];
      if (state.current.has(path)) files[path] = 'unlink'; else delete files[path];
    }
  }
  const cp = { id, created: new Date().toISOString(), files, stored, bytes };
  saveRecord(state, cp);
  state.records.push(cp);
  state.next += 1;
  saveIndex(state);
  for (const [path, change] of Object.entries(files)) if (change === 'unlink') state.current.delete(path);
  for (const [path, meta] of Object.entries(stored)) state.current.set(path, meta);
  return [describeCheckpoint(cp)];
}

function describeCheckpoint(cp) {
  return { id: cp.id, created: cp.created, size: cp.bytes,
           files: Object.entries(cp.files).map(([path, change]) => ({ path, change })) };
}

function listCheckpoints(ctx, req) {
  const state = loadState(req.store, ctx.W, JSON.stringify(req.ignore || []));
  return [{ checkpoints: state.records.map(describeCheckpoint) }];
}

// [meta, copy] of a path at record position k, or null when it did not exist then.
function stateAt(state, k, path) {
  for (let j = k; j >= 0; j--) {
    const cp = state.records[j];
    if (cp.stored[path] !== undefined) return [cp.stored[path], copyOf(state.store, cp.id, path)];
    if (cp.files[path] === 'unlink') return null;
  }
  return null;
}

function restoreCheckpoint(ctx, req) {
  const ignore = new Set(req.ignore || []);
  const state = loadState(req.store, ctx.W, JSON.stringify(req.ignore || []));
  const k = state.records.findIndex((cp) => cp.id === String(req.checkpoint));
  if (k < 0) return [{ code: 'ENOCHECKPOINT' }];
  const wanted = req.paths; // null: all; else paths from the workdir ("/src")
  const chosen = (path) => !wanted || wanted.some((w) => w === '/' || path === w || under(path, w));
  const now = new Map();
  scanInto(ctx.W, '', ignore, now, null);
  const known = new Set(now.keys());
  for (let j = 0; j <= k; j++) for (const path of Object.keys(state.records[j].stored)) known.add(path);
  const plan = [];
  for (const path of known) {
    if (!chosen(path)) continue;
    const want = stateAt(state, k, path);
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
    const [meta, copy] = want;
    cpfs.mkdirSync(parent, { recursive: true });
    const temp = parent + '/' + TEMP_PREFIX + 'restore-' + process.pid + '-' + changed.length;
    if (isLink(meta)) {
      cpfs.symlinkSync(meta[3], temp);
    } else {
      cpfs.copyFileSync(copy, temp);
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
  for (const { path } of changed) state.dirty.add(path); // the watch may not have told yet
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
    // One turn of the event loop first: the watch's events already queued are noted.
    const run = cpQueue.then(() => new Promise((done) => setImmediate(done)))
      .then(() => fn(ctx, req));
    cpQueue = run.catch(() => {});
    return run;
  };
}

Object.assign(FS_OPS, {
  checkpoint: serialised(checkpointNow),
  checkpoints: serialised(listCheckpoints),
  restore: serialised(restoreCheckpoint),
});
