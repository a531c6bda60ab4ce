/**
 * Uploads into a container: each file is PUT as raw bytes to
 * `webcontainer/{id}/fs/writeFile?path=` with XMLHttpRequest (fetch has no
 * upload progress). A queue runs a few at a time and sums the progress.
 */
import { ISignal, Signal } from '@lumino/signaling';

import { ApiError, errorFromResponse } from './api';
import { dirname, join, normalize } from './webcontainer/paths';

/** A file to upload and where it goes (a workdir path). */
export interface IUploadRequest {
  file: Blob;
  path: string;
}

export type UploadStatus =
  'queued' | 'uploading' | 'done' | 'error' | 'cancelled';

export interface IUploadItem {
  readonly id: number;
  readonly path: string;
  readonly size: number;
  loaded: number;
  status: UploadStatus;
  error?: string;
}

/** Totals over the items of a queue. */
export interface IUploadProgress {
  loaded: number;
  total: number;
  /** loaded / total in [0, 1]; 1 when there is nothing to upload. */
  fraction: number;
  active: number;
  queued: number;
  failed: number;
  done: number;
}

/** Sends one file, reporting bytes sent; rejects on failure or abort. */
export type UploadSender = (
  request: IUploadRequest,
  onProgress: (loaded: number) => void,
  signal: AbortSignal
) => Promise<void>;

/** Sum the progress of upload items (cancelled ones do not count). */
export function summarize(items: readonly IUploadItem[]): IUploadProgress {
  let loaded = 0;
  let total = 0;
  let active = 0;
  let queued = 0;
  let failed = 0;
  let done = 0;
  for (const item of items) {
    if (item.status === 'cancelled') {
      continue;
    }
    total += item.size;
    loaded +=
      item.status === 'done' ? item.size : Math.min(item.loaded, item.size);
    if (item.status === 'uploading') {
      active++;
    } else if (item.status === 'queued') {
      queued++;
    } else if (item.status === 'error') {
      failed++;
    } else if (item.status === 'done') {
      done++;
    }
  }
  return {
    loaded,
    total,
    fraction: total === 0 ? 1 : loaded / total,
    active,
    queued,
    failed,
    done
  };
}

/**
 * The directories to create before files with relative paths (from a dropped
 * folder) land under `targetDir`: parents first, each once.
 */
export function planUpload(
  targetDir: string,
  files: { file: Blob; relativePath: string }[]
): { directories: string[]; uploads: IUploadRequest[] } {
  const root = normalize(targetDir);
  const directories = new Set<string>();
  const uploads: IUploadRequest[] = [];
  for (const { file, relativePath } of files) {
    const path = join(root, relativePath);
    uploads.push({ file, path });
    let dir = dirname(path);
    const chain: string[] = [];
    while (
      dir !== root &&
      dir !== '/' &&
      dir.startsWith(root === '/' ? '/' : root + '/')
    ) {
      chain.unshift(dir);
      dir = dirname(dir);
    }
    chain.forEach(d => directories.add(d));
  }
  const ordered = [...directories].sort(
    (a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b)
  );
  return { directories: ordered, uploads };
}

/** A queue that uploads a few files at a time. */
export class UploadQueue {
  constructor(
    private readonly _send: UploadSender,
    private readonly _concurrency = 2
  ) {}

  /** Emitted on every change of an item (progress included). */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Emitted once per item that finished, with its final state. */
  get finished(): ISignal<this, IUploadItem> {
    return this._finished;
  }

  get items(): readonly IUploadItem[] {
    return this._items;
  }

  get progress(): IUploadProgress {
    return summarize(this._items);
  }

  /** Is anything queued or uploading? */
  get busy(): boolean {
    return this._items.some(
      i => i.status === 'queued' || i.status === 'uploading'
    );
  }

  /** Queue files; resolves when these have finished (done, failed or cancelled). */
  add(requests: IUploadRequest[]): Promise<IUploadItem[]> {
    const added: IUploadItem[] = requests.map(request => {
      const item: IUploadItem = {
        id: ++this._nextId,
        path: request.path,
        size: request.file.size,
        loaded: 0,
        status: 'queued'
      };
      this._requests.set(item.id, request);
      return item;
    });
    this._items.push(...added);
    this._changed.emit();
    const done = Promise.all(
      added.map(
        item =>
          new Promise<IUploadItem>(resolve =>
            this._waiters.set(item.id, resolve)
          )
      )
    );
    this._pump();
    return done;
  }

  /** Cancel one item (queued or uploading). */
  cancel(id: number): void {
    const item = this._items.find(i => i.id === id);
    if (!item) {
      return;
    }
    if (item.status === 'queued') {
      this._finish(item, 'cancelled');
      this._pump();
    } else if (item.status === 'uploading') {
      this._controllers.get(id)?.abort();
    }
  }

  cancelAll(): void {
    for (const item of [...this._items]) {
      this.cancel(item.id);
    }
  }

  /** Forget finished items (when nothing is running, the totals restart). */
  clearFinished(): void {
    this._items = this._items.filter(
      i => i.status === 'queued' || i.status === 'uploading'
    );
    this._changed.emit();
  }

  private _pump(): void {
    let running = this._items.filter(i => i.status === 'uploading').length;
    for (const item of this._items) {
      if (running >= this._concurrency) {
        break;
      }
      if (item.status === 'queued') {
        running++;
        void this._run(item);
      }
    }
  }

  private async _run(item: IUploadItem): Promise<void> {
    const request = this._requests.get(item.id)!;
    const controller = new AbortController();
    this._controllers.set(item.id, controller);
    item.status = 'uploading';
    this._changed.emit();
    try {
      await this._send(
        request,
        loaded => {
          if (item.status === 'uploading') {
            item.loaded = Math.min(loaded, item.size);
            this._changed.emit();
          }
        },
        controller.signal
      );
      item.loaded = item.size;
      this._finish(item, 'done');
    } catch (error) {
      if (controller.signal.aborted) {
        this._finish(item, 'cancelled');
      } else {
        item.error = (error as Error)?.message ?? String(error);
        this._finish(item, 'error');
      }
    } finally {
      this._controllers.delete(item.id);
      this._pump();
    }
  }

  private _finish(item: IUploadItem, status: UploadStatus): void {
    item.status = status;
    this._requests.delete(item.id);
    this._changed.emit();
    this._finished.emit(item);
    const waiter = this._waiters.get(item.id);
    this._waiters.delete(item.id);
    waiter?.(item);
  }

  private _items: IUploadItem[] = [];
  private _nextId = 0;
  private _requests = new Map<number, IUploadRequest>();
  private _controllers = new Map<number, AbortController>();
  private _waiters = new Map<number, (item: IUploadItem) => void>();
  private _changed = new Signal<this, void>(this);
  private _finished = new Signal<this, IUploadItem>(this);
}

/** The part of XMLHttpRequest an upload uses. */
export interface IXhrLike {
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  send(body: Blob): void;
  abort(): void;
  readonly status: number;
  readonly responseText: string;
  withCredentials: boolean;
  upload: {
    onprogress: ((ev: { loaded: number; total: number }) => any) | null;
  };
  onload: ((ev: any) => any) | null;
  onerror: ((ev: any) => any) | null;
  onabort: ((ev: any) => any) | null;
}

/** The `_xsrf` cookie value, as JupyterLab's makeRequest reads it. */
export function xsrfFromCookie(cookie: string): string | null {
  const match = cookie.match('\\b_xsrf=([^;]*)\\b');
  return match ? match[1] : null;
}

/** Auth headers for a raw upload: the token, and the XSRF header from the cookie. */
export function uploadHeaders(
  token: string,
  cookie: string
): Record<string, string> {
  const headers: Record<string, string> = {
    'Content-Type': 'application/octet-stream'
  };
  if (token) {
    headers['Authorization'] = `token ${token}`;
  }
  const xsrf = xsrfFromCookie(cookie);
  if (xsrf) {
    headers['X-XSRFToken'] = xsrf;
  }
  return headers;
}

/** PUT a blob with progress; rejects with the server's error. */
export function xhrPut(
  url: string,
  body: Blob,
  headers: Record<string, string>,
  onProgress: (loaded: number) => void,
  signal: AbortSignal,
  createXhr: () => IXhrLike = () => new XMLHttpRequest() as any
): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new ApiError('Upload cancelled', 0, 'Cancelled', 'ECANCELED'));
      return;
    }
    const xhr = createXhr();
    xhr.open('PUT', url);
    xhr.withCredentials = true;
    for (const [name, value] of Object.entries(headers)) {
      xhr.setRequestHeader(name, value);
    }
    xhr.upload.onprogress = ev => onProgress(ev.loaded);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(body.size);
        resolve();
      } else {
        reject(errorFromResponse(xhr.status, xhr.responseText ?? ''));
      }
    };
    xhr.onerror = () =>
      reject(
        new ApiError(
          'Upload failed: network error',
          0,
          'Network Error',
          'ENETWORK'
        )
      );
    xhr.onabort = () =>
      reject(new ApiError('Upload cancelled', 0, 'Cancelled', 'ECANCELED'));
    signal.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(body);
  });
}

/** A dropped file with its path relative to the drop (folders walked). */
export interface IDroppedFile {
  file: File;
  relativePath: string;
}

/** Files of a drop, walking dropped folders (webkitGetAsEntry). */
export async function filesFromDataTransfer(
  transfer: DataTransfer
): Promise<IDroppedFile[]> {
  const entries: any[] = [];
  for (const item of Array.from(transfer.items ?? [])) {
    const entry = (item as any).webkitGetAsEntry?.();
    if (entry) {
      entries.push(entry);
    }
  }
  if (entries.length === 0) {
    return Array.from(transfer.files ?? []).map(file => ({
      file,
      relativePath: file.name
    }));
  }
  const result: IDroppedFile[] = [];
  const walk = async (entry: any, prefix: string): Promise<void> => {
    if (entry.isFile) {
      const file: File = await new Promise((resolve, reject) =>
        entry.file(resolve, reject)
      );
      result.push({ file, relativePath: prefix + entry.name });
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      // readEntries answers in batches until it gives an empty one.
      for (;;) {
        const batch: any[] = await new Promise((resolve, reject) =>
          reader.readEntries(resolve, reject)
        );
        if (batch.length === 0) {
          break;
        }
        for (const child of batch) {
          await walk(child, `${prefix}${entry.name}/`);
        }
      }
    }
  };
  for (const entry of entries) {
    await walk(entry, '');
  }
  return result;
}
