import { describe, expect, it } from 'vitest';

import { ApiError } from '../src/api';
import {
  IUploadRequest,
  UploadQueue,
  planUpload,
  summarize,
  uploadHeaders,
  xhrPut,
  xsrfFromCookie
} from '../src/upload';
import { FakeXhr } from './fakes';

const blob = (size: number) => new Blob([new Uint8Array(size)]);

/** A sender whose uploads the test finishes by hand. */
function manualSender() {
  const calls: {
    request: IUploadRequest;
    progress: (n: number) => void;
    resolve: () => void;
    reject: (e: Error) => void;
    signal: AbortSignal;
  }[] = [];
  const send = (
    request: IUploadRequest,
    progress: (n: number) => void,
    signal: AbortSignal
  ) =>
    new Promise<void>((resolve, reject) => {
      calls.push({ request, progress, resolve, reject, signal });
      signal.addEventListener('abort', () => reject(new Error('aborted')));
    });
  return { calls, send };
}

const tick = () => new Promise(resolve => setTimeout(resolve, 0));

describe('planUpload', () => {
  it('places files under the target and lists parent directories first, once', () => {
    const a = blob(1);
    const b = blob(2);
    const c = blob(3);
    const plan = planUpload('/src', [
      { file: a, relativePath: 'site/css/main.css' },
      { file: b, relativePath: 'site/index.html' },
      { file: c, relativePath: 'logo.png' }
    ]);
    expect(plan.directories).toEqual(['/src/site', '/src/site/css']);
    expect(plan.uploads).toEqual([
      { file: a, path: '/src/site/css/main.css' },
      { file: b, path: '/src/site/index.html' },
      { file: c, path: '/src/logo.png' }
    ]);
  });

  it('needs no directories for plain files at the root', () => {
    const plan = planUpload('/', [{ file: blob(1), relativePath: 'a.txt' }]);
    expect(plan.directories).toEqual([]);
    expect(plan.uploads[0].path).toBe('/a.txt');
  });
});

describe('summarize', () => {
  it('sums bytes over items, counting done items whole and skipping cancelled ones', () => {
    const progress = summarize([
      { id: 1, path: '/a', size: 100, loaded: 100, status: 'done' },
      { id: 2, path: '/b', size: 300, loaded: 50, status: 'uploading' },
      { id: 3, path: '/c', size: 100, loaded: 0, status: 'queued' },
      { id: 4, path: '/d', size: 1000, loaded: 10, status: 'cancelled' },
      { id: 5, path: '/e', size: 0, loaded: 0, status: 'error' }
    ]);
    expect(progress).toEqual({
      loaded: 150,
      total: 500,
      fraction: 0.3,
      active: 1,
      queued: 1,
      failed: 1,
      done: 1
    });
  });

  it('is complete when there is nothing to upload', () => {
    expect(summarize([]).fraction).toBe(1);
  });
});

describe('UploadQueue', () => {
  it('runs at most `concurrency` uploads and starts the next when one ends', async () => {
    const { calls, send } = manualSender();
    const queue = new UploadQueue(send, 2);
    const done = queue.add([
      { file: blob(10), path: '/1' },
      { file: blob(20), path: '/2' },
      { file: blob(30), path: '/3' }
    ]);
    expect(calls.map(c => c.request.path)).toEqual(['/1', '/2']);
    expect(queue.progress).toMatchObject({
      active: 2,
      queued: 1,
      total: 60,
      loaded: 0
    });

    calls[0].progress(5);
    expect(queue.progress.loaded).toBe(5);
    calls[0].resolve();
    await tick();
    expect(calls.map(c => c.request.path)).toEqual(['/1', '/2', '/3']);
    expect(queue.progress).toMatchObject({ loaded: 10, done: 1, active: 2 });

    calls[1].progress(999); // never counts more than the size
    expect(queue.progress.loaded).toBe(30);
    calls[1].resolve();
    calls[2].reject(
      new ApiError('ENOSPC: no space left on device', 507, null, 'ENOSPC')
    );
    const items = await done;
    expect(items.map(i => i.status)).toEqual(['done', 'done', 'error']);
    expect(items[2].error).toBe('ENOSPC: no space left on device');
    expect(queue.busy).toBe(false);
    expect(queue.progress).toMatchObject({
      done: 2,
      failed: 1,
      loaded: 30,
      total: 60
    });
  });

  it('cancels a queued item without sending it, and aborts a running one', async () => {
    const { calls, send } = manualSender();
    const queue = new UploadQueue(send, 1);
    const done = queue.add([
      { file: blob(10), path: '/running' },
      { file: blob(10), path: '/waiting' }
    ]);
    const [running, waiting] = queue.items;
    queue.cancel(waiting.id);
    queue.cancel(running.id);
    expect(calls[0].signal.aborted).toBe(true);
    const items = await done;
    expect(items.map(i => i.status)).toEqual(['cancelled', 'cancelled']);
    expect(calls).toHaveLength(1);
    expect(queue.progress.total).toBe(0);
  });

  it('forgets finished items on clearFinished', async () => {
    const { calls, send } = manualSender();
    const queue = new UploadQueue(send, 1);
    const done = queue.add([{ file: blob(1), path: '/a' }]);
    calls[0].resolve();
    await done;
    queue.clearFinished();
    expect(queue.items).toEqual([]);
  });
});

describe('uploadHeaders', () => {
  it('adds the token and the XSRF header taken from the _xsrf cookie', () => {
    expect(xsrfFromCookie('a=1; _xsrf=2|abc|def; b=3')).toBe('2|abc|def');
    expect(xsrfFromCookie('a=1')).toBeNull();
    expect(uploadHeaders('tok', '_xsrf=XS')).toEqual({
      'Content-Type': 'application/octet-stream',
      Authorization: 'token tok',
      'X-XSRFToken': 'XS'
    });
    expect(uploadHeaders('', '')).toEqual({
      'Content-Type': 'application/octet-stream'
    });
  });
});

describe('xhrPut', () => {
  it('PUTs the bytes with the headers and reports progress', async () => {
    const xhr = new FakeXhr();
    const seen: number[] = [];
    const body = blob(1000);
    const done = xhrPut(
      '/api/webcontainer/x/fs/writeFile?path=%2Fa.bin',
      body,
      { Authorization: 'token t' },
      n => seen.push(n),
      new AbortController().signal,
      () => xhr
    );
    expect(xhr.method).toBe('PUT');
    expect(xhr.url).toBe('/api/webcontainer/x/fs/writeFile?path=%2Fa.bin');
    expect(xhr.headers).toEqual({ Authorization: 'token t' });
    expect(xhr.body).toBe(body);
    xhr.progress(400);
    xhr.respond(204);
    await done;
    expect(seen).toEqual([400, 1000]);
  });

  it('rejects with the server error body', async () => {
    const xhr = new FakeXhr();
    const done = xhrPut(
      '/u',
      blob(1),
      {},
      () => undefined,
      new AbortController().signal,
      () => xhr
    );
    xhr.respond(
      413,
      JSON.stringify({
        message: 'File too large (max 1 GiB)',
        reason: 'Payload Too Large',
        code: null
      })
    );
    const error = await done.catch(e => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(413);
    expect(error.message).toBe('File too large (max 1 GiB)');
  });

  it('aborts the request when the signal fires', async () => {
    const xhr = new FakeXhr();
    const controller = new AbortController();
    const done = xhrPut(
      '/u',
      blob(1),
      {},
      () => undefined,
      controller.signal,
      () => xhr
    );
    controller.abort();
    const error = await done.catch(e => e);
    expect(xhr.aborted).toBe(true);
    expect(error.code).toBe('ECANCELED');
  });
});
