/**
 * `webcontainer.fs`: Node's `fs.promises` subset of `@webcontainer/api`,
 * over the REST routes (reads and writes) and the socket (`watch`).
 */
import { fromServerPath, isWithin, normalize, toUrlPath } from './paths';
import type { EntryType, IDirEntry, IFsChange } from './types';
import { toBase64 } from './bytes';
import { toNodeError } from './errors';
import { ClientEvent, ServerEvent } from './protocol.generated';
import { call, containerEndpoint, post, query } from './rest';
import { ContainerSocket } from './socket';
import { ITransport } from './transport';

export type BufferEncoding = 'utf-8' | 'utf8' | 'base64' | null | undefined;

/** One entry of `readdir(path, { withFileTypes: true })`, like Node's Dirent. */
export class DirEnt<T extends string = string> {
  constructor(
    readonly name: T,
    private readonly _type: EntryType
  ) {}

  isFile(): boolean {
    return this._type === 'file';
  }

  isDirectory(): boolean {
    return this._type === 'directory';
  }

  isSymbolicLink(): boolean {
    return this._type === 'symlink';
  }
}

export type WatchListener = (
  event: 'rename' | 'change',
  filename: string
) => void;

export interface IWatchOptions {
  /** Also report changes below subdirectories. */
  recursive?: boolean;
  encoding?: BufferEncoding;
}

/** What `fs.watch` returns. */
export interface IFSWatcher {
  /** Stop watching. */
  close(): void;
  /**
   * Resolves once the server watches the path (changes made before may be
   * missed); rejects with a Node-style error (ENOENT...). Not in
   * `@webcontainer/api`, where watching is local and immediate.
   */
  readonly ready: Promise<void>;
}

interface IWatcher {
  path: string;
  recursive: boolean;
  listener: WatchListener;
}

/** Node's event name of a server change kind. */
export function watchEvent(kind: IFsChange['kind']): 'rename' | 'change' {
  return kind === 'change' ? 'change' : 'rename';
}

/**
 * The filename a watcher of `watched` reports for a change of `changed`
 * (relative to a watched directory, the basename for a watched file), or
 * null when the change is not its business.
 */
export function watchedName(
  watched: string,
  changed: string,
  recursive: boolean
): string | null {
  const w = normalize(watched);
  const c = normalize(changed);
  if (c === w) {
    return c.slice(c.lastIndexOf('/') + 1);
  }
  if (!isWithin(c, w)) {
    return null;
  }
  const rest = w === '/' ? c.slice(1) : c.slice(w.length + 1);
  if (!recursive && rest.includes('/')) {
    return null;
  }
  return rest;
}

export class FileSystemAPI {
  /**
   * @param check throws when the file system may no longer be used (its
   *   WebContainer was torn down)
   */
  constructor(
    private readonly _transport: ITransport,
    private readonly _containerId: string,
    private readonly _socket: () => ContainerSocket,
    private readonly _workdir: () => string | undefined,
    private readonly _check: () => void = () => undefined
  ) {}

  private _fs(rest: string): string {
    this._check();
    return containerEndpoint(this._containerId, `fs/${rest}`);
  }

  /** The file's bytes, or its text with an encoding (`utf-8`). */
  readFile(path: string): Promise<Uint8Array>;
  readFile(
    path: string,
    encoding: 'utf-8' | 'utf8' | { encoding: 'utf-8' | 'utf8' }
  ): Promise<string>;
  readFile(
    path: string,
    encoding?: BufferEncoding | { encoding?: BufferEncoding }
  ): Promise<string | Uint8Array>;
  async readFile(
    path: string,
    encoding?: BufferEncoding | { encoding?: BufferEncoding }
  ): Promise<string | Uint8Array> {
    const enc =
      typeof encoding === 'object' && encoding ? encoding.encoding : encoding;
    const url = this._fs(`readFile/${toUrlPath(path)}`);
    if (enc === 'utf-8' || enc === 'utf8') {
      return call<string>(this._transport, `${url}?encoding=utf-8`, {}, 'text');
    }
    const bytes = await call<Uint8Array>(this._transport, url, {}, 'bytes');
    return enc === 'base64' ? toBase64(bytes) : bytes;
  }

  /**
   * Write text (as UTF-8) or bytes (a Uint8Array; a Blob or an ArrayBuffer
   * too); the parent must exist (ENOENT).
   */
  async writeFile(
    path: string,
    data: string | Uint8Array | Blob | ArrayBuffer,
    options?: string | { encoding?: string | null } | null
  ): Promise<void> {
    const enc = typeof options === 'string' ? options : options?.encoding;
    if (typeof data === 'string') {
      await post<void>(this._transport, this._fs('writeFile'), {
        path,
        contents: data,
        encoding: enc === 'base64' ? 'base64' : 'utf-8'
      });
      return;
    }
    await call<void>(
      this._transport,
      this._fs(`writeFile${query({ path })}`),
      {
        method: 'PUT',
        headers: { 'Content-Type': 'application/octet-stream' },
        body: data as BodyInit
      },
      'none'
    );
  }

  /** Names in a directory, or `DirEnt`s with `{ withFileTypes: true }`. */
  readdir(
    path: string,
    options: { withFileTypes: true; encoding?: BufferEncoding }
  ): Promise<DirEnt<string>[]>;
  readdir(
    path: string,
    options?:
      { withFileTypes?: false; encoding?: BufferEncoding } | BufferEncoding
  ): Promise<string[]>;
  async readdir(
    path: string,
    options?:
      { withFileTypes?: boolean; encoding?: BufferEncoding } | BufferEncoding
  ): Promise<string[] | DirEnt<string>[]> {
    const withFileTypes =
      typeof options === 'object' &&
      options !== null &&
      !!options.withFileTypes;
    const url = this._fs(`readdir/${toUrlPath(path)}`);
    if (!withFileTypes) {
      return call<string[]>(this._transport, url);
    }
    const entries = await call<IDirEntry[]>(
      this._transport,
      `${url}?withFileTypes=true`
    );
    return entries.map(entry => new DirEnt(entry.name, entry.type));
  }

  /** Make a directory (`{ recursive: true }`: with its parents, no EEXIST). */
  async mkdir(path: string, options?: { recursive?: boolean }): Promise<void> {
    await post<void>(this._transport, this._fs('mkdir'), {
      path,
      recursive: !!options?.recursive
    });
  }

  /** Remove a file, or a directory with `{ recursive: true }`. */
  async rm(
    path: string,
    options?: { recursive?: boolean; force?: boolean }
  ): Promise<void> {
    const q = query({
      path,
      recursive: !!options?.recursive,
      force: !!options?.force
    });
    await call<void>(
      this._transport,
      this._fs(`rm${q}`),
      { method: 'DELETE' },
      'none'
    );
  }

  /** Rename or move a file or directory. */
  async rename(oldPath: string, newPath: string): Promise<void> {
    await post<void>(this._transport, this._fs('rename'), { oldPath, newPath });
  }

  /**
   * Watch a file or a directory: `listener('rename' | 'change', filename)`,
   * as Node's fs.watch. Returns at once; `watcher.ready` says when the
   * server watches.
   */
  watch(path: string, listener?: WatchListener): IFSWatcher;
  watch(
    path: string,
    options: IWatchOptions | BufferEncoding,
    listener?: WatchListener
  ): IFSWatcher;
  watch(
    path: string,
    optionsOrListener?: IWatchOptions | BufferEncoding | WatchListener,
    maybeListener?: WatchListener
  ): IFSWatcher {
    this._check();
    const listener =
      typeof optionsOrListener === 'function'
        ? optionsOrListener
        : maybeListener;
    const options =
      typeof optionsOrListener === 'object' && optionsOrListener
        ? optionsOrListener
        : {};
    const watcher: IWatcher = {
      path: normalize(path),
      recursive: !!options.recursive,
      listener: listener ?? (() => undefined)
    };
    const ready = this._addWatcher(watcher);
    ready.catch(() => undefined); // reported through `ready`
    let closed = false;
    return {
      ready,
      close: () => {
        if (!closed) {
          closed = true;
          this._removeWatcher(watcher);
        }
      }
    };
  }

  /** Stop every watcher (teardown). */
  dispose(): void {
    this._watchers.clear();
    this._watched.clear();
    this._subscription?.dispose();
    this._subscription = null;
    this._rejoin?.dispose();
    this._rejoin = null;
  }

  private async _addWatcher(watcher: IWatcher): Promise<void> {
    const socket = this._socket();
    if (!this._subscription) {
      this._subscription = socket.on(
        ServerEvent.FsChange,
        (change: IFsChange) => this._onChange(change)
      );
      // After a reconnect the server forgot our watches: watch again.
      this._rejoin = socket.onJoined(() => {
        for (const path of this._watched.keys()) {
          socket.send(ClientEvent.FsOperation, { type: 'watch', path });
        }
      });
    }
    this._watchers.add(watcher);
    const count = this._watched.get(watcher.path) ?? 0;
    this._watched.set(watcher.path, count + 1);
    if (count > 0) {
      return this._pendingWatch.get(watcher.path);
    }
    const request = socket
      .request(ClientEvent.FsOperation, { type: 'watch', path: watcher.path })
      .then(
        () => undefined,
        error => {
          this._removeWatcher(watcher);
          throw toNodeError(error);
        }
      );
    this._pendingWatch.set(watcher.path, request);
    return request;
  }

  private _removeWatcher(watcher: IWatcher): void {
    if (!this._watchers.delete(watcher)) {
      return;
    }
    const count = (this._watched.get(watcher.path) ?? 1) - 1;
    if (count > 0) {
      this._watched.set(watcher.path, count);
      return;
    }
    this._watched.delete(watcher.path);
    this._pendingWatch.delete(watcher.path);
    const socket = this._socket();
    if (!socket.isDisposed) {
      socket
        .request(ClientEvent.FsOperation, {
          type: 'unwatch',
          path: watcher.path
        })
        .catch(() => undefined);
    }
  }

  private _onChange(change: IFsChange): void {
    const path = fromServerPath(change.path, this._workdir());
    const event = watchEvent(change.kind);
    for (const watcher of [...this._watchers]) {
      const name = watchedName(watcher.path, path, watcher.recursive);
      if (name !== null) {
        try {
          watcher.listener(event, name);
        } catch (error) {
          console.error(error);
        }
      }
    }
  }

  private _watchers = new Set<IWatcher>();
  private _watched = new Map<string, number>();
  private _pendingWatch = new Map<string, Promise<void>>();
  private _subscription: { dispose(): void } | null = null;
  private _rejoin: { dispose(): void } | null = null;
}
