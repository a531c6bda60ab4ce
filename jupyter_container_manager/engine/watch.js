// The watcher of one container (jcm-watch): one process, started by the agent, serves every
// watched path there with the kernel's inotify (fs.watch on each folder, not recursive:
// one inotify watch per folder, none per file, none in excluded folders). Appended to
// agent_fs.js, whose locate/follow check each watched path as the file operations do.
//
// stdin, one JSON per line: {id, op: "watch", workdir, path, exclude: [globs], include:
// [globs]} or {id, op: "unwatch"}. stdout, one JSON per line: {id, ok: true} once the
// baseline is read, {id, error: code} (the path is refused), {id, changes: [[path, kind],
// ...]}, {id, failed: code} (inotify gave out, e.g. ENOSPC on watches: poll instead).
//
// An event marks one name of one folder; events are gathered for COALESCE ms, then each
// marked name is looked at again (lstat, and its folder walked) and compared with what
// was known: add, change (type, size, mtime or inode differ), unlink, addDir, unlinkDir,
// in the polling watcher's order. Symlinks are never followed: a link is an entry.
const fsw = require('fs');
const COALESCE = 10;
const watches = new Map();

// Globs: `*` and `?` within a name, `**` across folders, {a,b}. A glob with `/` matches
// the whole path from the workdir (`src/**/*.ts`). One without: an exclude glob matches any
// name below the watched path (`node_modules`: every node_modules folder and all in it),
// an include glob the last name (`*.js`).
function globRegex(glob) {
  let out = '';
  let braces = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      i++;
      if (glob[i + 1] === '/') { i++; out += '(?:.*/)?'; } else out += '.*';
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '{') { braces++; out += '(?:'; }
    else if (c === '}' && braces) { braces--; out += ')'; }
    else if (c === ',' && braces) out += '|';
    else out += c.replace(/[.+^$(){}|[\]\\]/g, '\\$&');
  }
  return new RegExp('^' + out + '$', 's');
}
// (path from the workdir, path from the watched path) -> whether a glob matches.
function matcher(globs, anyName) {
  const tests = (globs || []).filter((g) => typeof g === 'string' && g).map((g) => {
    const bare = g.replace(/^\/+|\/+$/g, '');
    const re = globRegex(bare);
    if (bare.includes('/')) return (fromWorkdir) => re.test(fromWorkdir);
    if (!anyName) return (fromWorkdir) => re.test(nameOf(fromWorkdir));
    return (fromWorkdir, fromRoot) => fromRoot.split('/').some((n) => re.test(n));
  });
  return tests.length ? (a, b) => tests.some((t) => t(a, b)) : null;
}

class Watch {
  constructor(id, req) {
    this.id = id;
    this.excluded = matcher(req.exclude, true);
    this.included = matcher(req.include, false);
    this.known = new Map(); // path -> [type, size, mtime, inode]
    this.folders = new Map(); // path -> fs.FSWatcher
    this.marked = new Set();
    this.timer = null;
    this.closed = false;
  }

  rel(p, from) { return p === from ? '' : p.slice(from === '/' ? 1 : from.length + 1); }
  skip(p) {
    if (nameOf(p).startsWith(TEMP_PREFIX)) return true;
    return this.excluded !== null && p !== this.root
      && this.excluded(this.rel(p, this.W), this.rel(p, this.root));
  }
  reported(p) {
    return this.included === null || this.included(this.rel(p, this.W), this.rel(p, this.root));
  }

  async start(req) {
    const ctx = await context(req.workdir);
    this.W = ctx.W;
    this.root = await follow(ctx, await locate(ctx, req.path));
    if (!(await statOrNull(this.root))) fail('ENOENT');
    // The root's folder tells when the root itself goes or comes back.
    this.listen(parentOf(this.root), nameOf(this.root));
    const found = new Map();
    await this.walk(this.root, found);
    this.known = found;
  }

  // fs.watch of one folder; only: the one name it reports (the root's folder).
  listen(dir, only) {
    const key = only !== undefined ? dir + '\0' : dir;
    if (this.folders.has(key) || this.closed) return;
    const watcher = fsw.watch(dir, { persistent: true }, (type, name) => {
      if (only !== undefined) { if (name === only) this.mark(join(dir, only)); return; }
      this.mark(name ? join(dir, String(name)) : dir);
    });
    watcher.on('error', () => { this.unlisten(key); this.mark(dir); });
    this.folders.set(key, watcher);
  }
  unlisten(dir) {
    const watcher = this.folders.get(dir);
    if (watcher) { this.folders.delete(dir); watcher.close(); }
  }

  async walk(p, into) {
    if (this.skip(p)) return;
    const s = await lstatOrNull(p);
    if (!s) return;
    const type = s.isDirectory() ? 'd' : s.isSymbolicLink() ? 'l' : 'f';
    into.set(p, [type, s.size, s.mtimeMs, s.ino]);
    if (type !== 'd') return;
    this.listen(p);
    let names;
    try { names = await fsp.readdir(p); } catch (err) { return; }
    for (const name of names) await this.walk(join(p, name), into);
  }

  mark(p) {
    if (this.closed) return;
    this.marked.add(p);
    if (this.timer === null) {
      this.timer = setTimeout(() => this.flush().catch((err) => this.fail(err)), COALESCE);
    }
  }

  fail(err) { // e.g. ENOSPC: no inotify watches left; the server polls this path instead
    if (this.closed) return;
    say({ id: this.id, failed: (err && err.code) || 'EIO' });
    watches.delete(this.id);
    this.close();
  }

  async flush() {
    this.timer = null;
    const marked = [...this.marked];
    this.marked.clear();
    const removed = [], added = [], changed = [];
    for (const p of marked) { // each marked name is walked again, all that is below it
      if (p !== this.root && !p.startsWith(this.root === '/' ? '/' : this.root + '/')) continue;
      const now = new Map();
      await this.walk(p, now);
      const under = p === '/' ? '/' : p + '/';
      for (const [q, before] of this.known) {
        if (q !== p && !q.startsWith(under)) continue;
        const after = now.get(q);
        if (!after || (after[0] === 'd') !== (before[0] === 'd')) {
          this.known.delete(q);
          if (before[0] === 'd') this.unlisten(q);
          removed.push([q, before[0] === 'd' ? 'unlinkDir' : 'unlink']);
        }
      }
      for (const [q, after] of now) {
        const before = this.known.get(q);
        this.known.set(q, after);
        if (!before || (after[0] === 'd') !== (before[0] === 'd')) {
          added.push([q, after[0] === 'd' ? 'addDir' : 'add']);
        } else if (after[0] !== 'd' && after.some((v, i) => v !== before[i])) {
          changed.push([q, 'change']);
        }
      }
    }
    const depth = (item) => item[0].split('/').length;
    const byName = (a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
    removed.sort((a, b) => depth(b) - depth(a) || byName(a, b));
    added.sort((a, b) => depth(a) - depth(b) || byName(a, b));
    changed.sort(byName);
    const changes = removed.concat(added, changed).filter((item) => this.reported(item[0]));
    if (changes.length && !this.closed) say({ id: this.id, changes });
  }

  close() {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    for (const watcher of this.folders.values()) watcher.close();
    this.folders.clear();
    this.known.clear();
  }
}

function say(message) { process.stdout.write(JSON.stringify(message) + '\n'); }
function crash(err) {
  // inotify gave out (ENOSPC: no watches left) or something unforeseen: every watch is
  // told to poll instead, and this process ends.
  const code = (err && err.code) || 'EIO';
  for (const id of watches.keys()) say({ id, failed: code });
  process.exit(0);
}

async function command(req) {
  if (req.op === 'unwatch') {
    const watch = watches.get(req.id);
    if (watch) { watches.delete(req.id); watch.close(); }
    return;
  }
  const watch = new Watch(req.id, req);
  watches.set(req.id, watch);
  try {
    await watch.start(req);
  } catch (err) {
    watches.delete(req.id);
    watch.close();
    if (err instanceof FsFailure) return say({ id: req.id, error: err.code });
    return say({ id: req.id, failed: (err && err.code) || 'EIO' });
  }
  if (watches.get(req.id) === watch) say({ id: req.id, ok: true });
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (data) => {
  input += data;
  let end;
  while ((end = input.indexOf('\n')) >= 0) {
    const line = input.slice(0, end);
    input = input.slice(end + 1);
    if (line) command(JSON.parse(line)).catch(crash);
  }
});
process.stdin.on('end', () => process.exit(0));
process.stdout.on('error', () => process.exit(0));
