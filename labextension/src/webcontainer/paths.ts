/**
 * Paths inside a container's workdir, as the API takes them: `/` is the
 * workdir itself, `/src/a.js` is `<workdir>/src/a.js`. Pure helpers.
 */

/** Normalize to `/a/b` form: one leading slash, no trailing slash, no `.`. */
export function normalize(path: string): string {
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') {
      continue;
    }
    if (part === '..') {
      parts.pop();
      continue;
    }
    parts.push(part);
  }
  return '/' + parts.join('/');
}

/** Join a directory and a name (or a relative path). */
export function join(dir: string, name: string): string {
  return normalize(dir + '/' + name);
}

/** The parent directory of a path; the root is its own parent. */
export function dirname(path: string): string {
  const norm = normalize(path);
  const index = norm.lastIndexOf('/');
  return index <= 0 ? '/' : norm.slice(0, index);
}

/** The last segment of a path; '' for the root. */
export function basename(path: string): string {
  const norm = normalize(path);
  return norm.slice(norm.lastIndexOf('/') + 1);
}

/** Is `path` equal to `ancestor` or below it? */
export function isWithin(path: string, ancestor: string): boolean {
  const p = normalize(path);
  const a = normalize(ancestor);
  return a === '/' || p === a || p.startsWith(a + '/');
}

/**
 * A path as URL path segments (no leading slash, each segment encoded), for
 * routes like `fs/readFile/{path}`.
 */
export function toUrlPath(path: string): string {
  return normalize(path).slice(1).split('/').map(encodeURIComponent).join('/');
}

/**
 * A path reported by the server, made workdir-relative: an absolute container
 * path under `workdir` loses that prefix; anything else is taken as already
 * relative to the workdir.
 */
export function fromServerPath(path: string, workdir?: string): string {
  const norm = normalize(path);
  if (workdir) {
    const wd = normalize(workdir);
    if (wd !== '/' && (norm === wd || norm.startsWith(wd + '/'))) {
      return normalize(norm.slice(wd.length));
    }
  }
  return norm;
}

/** Does a file name look valid for creating (no separators, not `.`/`..`)? */
export function isValidName(name: string): boolean {
  return (
    name.length > 0 &&
    name !== '.' &&
    name !== '..' &&
    !name.includes('/') &&
    !name.includes('\0')
  );
}
