// Large uploads over the lane (lane_upload.py): the file's new bytes come in several FS
// requests on one lane connection instead of one docker exec's stdin. Appended to agent.js
// after agent_fs.js (one source), whose checks they share.
//
// - upload-open {path, token}: the checks of WRITE (fs_scripts.py) and of write() here,
//   then the temporary <folder>/.jcm-tmp-<token> is made (O_EXCL, O_NOFOLLOW; mode and
//   owner of the old file), as the script makes it, so a sweep knows it by its token.
//   A folder the user cannot write answers {fallback: true}: the script writes in place.
// - upload-append {token} + bytes: appended to the temporary, in the order they came.
// - upload-commit {token, size}: with exactly `size` bytes written, the temporary is
//   renamed over the file (rename(2): the file changes all at once), else removed.
// - upload-abort {token}: the temporary is removed; the file keeps its old bytes.
//
// An upload belongs to the lane connection that opened it: an error while appending, and
// the end of that connection (the server went away, the lane was cut), remove its
// temporary. Over the exec stream these requests are refused (EINVAL).
const UPLOAD_TOKEN = /^[0-9a-f]{1,64}$/;

function dropUpload(uploads, token) {
  const upload = uploads.get(token);
  if (!upload) return;
  uploads.delete(token);
  closeQuietly(upload.fd);
  try { fs.unlinkSync(upload.temporary); } catch (err) { /* gone already */ }
}

function dropUploads(uploads) {
  for (const token of Array.from(uploads.keys())) dropUpload(uploads, token);
  connectionsUploads.delete(uploads);
}

// Every lane connection's uploads: an agent that ends (its exec stream cut, e.g. the
// engine went away) removes their temporaries too, as the exec's WRITE script does when
// its input ends without the end marker.
const connectionsUploads = new Set();
process.on('exit', () => { for (const uploads of connectionsUploads) dropUploads(uploads); });

function connectionUploads() {
  const uploads = new Map();
  connectionsUploads.add(uploads);
  return uploads;
}

function uploadOf(req, uploads) {
  const upload = uploads && uploads.get(String(req.token));
  if (!upload) fail('EINVAL', 'write');
  return upload;
}

function uploadOpen(ctx, req, data, uploads) {
  const token = String(req.token || '');
  if (!uploads || !UPLOAD_TOKEN.test(token) || uploads.has(token)) fail('EINVAL');
  const T = follow(ctx, locate(ctx, req.path));
  const old = statOrNull(T);
  if (old && old.isDirectory()) fail('EISDIR');
  if (old && !can(T, FS.W_OK)) fail('EACCES');
  const D = parentOf(T);
  if (!can(D, FS.W_OK)) return [{ fallback: true }];
  const temporary = join(D, TEMP_PREFIX + token);
  let fd;
  try {
    fd = fs.openSync(temporary, FS.O_WRONLY | FS.O_CREAT | FS.O_EXCL | FS.O_NOFOLLOW, 0o666);
  } catch (err) {
    return [{ fallback: true }]; // as the script, which then writes in place
  }
  if (old) {
    try { fs.fchmodSync(fd, old.mode & 0o7777); } catch (err) { /* as chmod in the script */ }
    try { fs.fchownSync(fd, old.uid, old.gid); } catch (err) { /* not ours to give */ }
  }
  uploads.set(token, { fd, temporary, target: T, written: 0 });
  return [{}];
}

function uploadAppend(ctx, req, data, uploads) {
  const upload = uploadOf(req, uploads);
  try {
    writeAll(upload.fd, data);
  } catch (err) {
    dropUpload(uploads, String(req.token));
    fail(nodeCode(err), 'write');
  }
  upload.written += data.length;
  return [{}];
}

function uploadCommit(ctx, req, data, uploads) {
  const upload = uploadOf(req, uploads);
  const token = String(req.token);
  try {
    if (upload.written !== req.size) fail('EIO', 'write'); // a request lost on the way
    fs.closeSync(upload.fd);
    upload.fd = null;
    const now = lstatOrNull(upload.target);
    if (now && now.isDirectory()) fail('EISDIR', 'write');
    fs.renameSync(upload.temporary, upload.target);
  } catch (err) {
    if (upload.fd === null) upload.fd = -1; // closed: dropUpload's close is a no-op then
    dropUpload(uploads, token);
    if (err instanceof FsFailure) throw err;
    fail(nodeCode(err), 'write');
  }
  uploads.delete(token);
  return [{ size: upload.written }];
}

function uploadAbort(ctx, req, data, uploads) {
  if (uploads) dropUpload(uploads, String(req.token));
  return [{}];
}

Object.assign(FS_OPS, {
  'upload-open': uploadOpen,
  'upload-append': uploadAppend,
  'upload-commit': uploadCommit,
  'upload-abort': uploadAbort,
});
