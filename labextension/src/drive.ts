/**
 * A JupyterLab contents drive over the containers' file systems, so that a
 * container file opens in JupyterLab's own editor (a DocumentWidget) and
 * saving writes it back through the REST API.
 *
 * Paths: `container:<containerId>/<path in the workdir>`.
 */
import { Contents, ServerConnection } from '@jupyterlab/services';
import {
  ITranslator,
  TranslationBundle,
  nullTranslator
} from '@jupyterlab/translation';
import { ISignal, Signal } from '@lumino/signaling';

import { ApiError } from './api';
import { ContainerClient } from './client';
import { basename, join, normalize } from './webcontainer/paths';
import { ClientEvent, ServerEvent } from './socket';
import { SocketPool } from './sockets';
import { IFsChange, IStat } from './types';

export const DRIVE_NAME = 'container';

/** Folders with more entries than this are listed without sizes and times. */
export const MAX_STATS_PER_LISTING = 500;

/** Split a drive-local path into the container id and the workdir path. */
export function splitLocalPath(localPath: string): {
  containerId: string;
  path: string;
} {
  const trimmed = localPath.replace(/^\/+/, '');
  const index = trimmed.indexOf('/');
  if (index < 0) {
    return { containerId: trimmed, path: '/' };
  }
  return {
    containerId: trimmed.slice(0, index),
    path: normalize(trimmed.slice(index))
  };
}

/** The drive-local path of a container file. */
export function toLocalPath(containerId: string, path: string): string {
  const norm = normalize(path);
  return norm === '/' ? containerId : containerId + norm;
}

/** The global (JupyterLab) path of a container file. */
export function toDrivePath(containerId: string, path: string): string {
  return `${DRIVE_NAME}:${toLocalPath(containerId, path)}`;
}

/** A stat mtime (seconds, milliseconds or a date string) as an ISO date. */
export function mtimeToIso(mtime: number | string | undefined): string {
  if (mtime === undefined || mtime === null || mtime === '') {
    return '';
  }
  if (typeof mtime === 'number') {
    // Below 1e11 it is seconds (until the year 5138), else milliseconds.
    const ms = mtime < 1e11 ? mtime * 1000 : mtime;
    return new Date(ms).toISOString();
  }
  const numeric = Number(mtime);
  if (!Number.isNaN(numeric)) {
    return mtimeToIso(numeric);
  }
  const date = new Date(mtime);
  return Number.isNaN(date.getTime()) ? '' : date.toISOString();
}

/** Decode bytes as UTF-8 text, or null when they are not valid UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

export function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  const step = 0x8000;
  for (let i = 0; i < bytes.length; i += step) {
    binary += String.fromCharCode(...bytes.subarray(i, i + step));
  }
  return btoa(binary);
}

export function base64ToBytes(base64: string): Uint8Array {
  const binary = atob(base64.replace(/\s/g, ''));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) {
    bytes[i] = binary.charCodeAt(i);
  }
  return bytes;
}

const MIME_BY_EXT: Record<string, string> = {
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.ts': 'text/typescript',
  '.json': 'application/json',
  '.html': 'text/html',
  '.css': 'text/css',
  '.md': 'text/markdown',
  '.py': 'text/x-python',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.svg': 'image/svg+xml',
  '.ipynb': 'application/x-ipynb+json'
};

function mimetypeOf(name: string, format: Contents.FileFormat): string {
  const dot = name.lastIndexOf('.');
  const ext = dot >= 0 ? name.slice(dot).toLowerCase() : '';
  return (
    MIME_BY_EXT[ext] ??
    (format === 'base64' ? 'application/octet-stream' : 'text/plain')
  );
}

/** A container as the drive root lists it. */
export interface IDriveContainer {
  id: string;
  name: string;
  status: string;
}

/** An `fs-change` push as a contents change of the drive. */
export function changeOf(
  containerId: string,
  change: IFsChange
): Contents.IChangedArgs {
  const path = toLocalPath(containerId, change.path);
  const model = {
    name: basename(change.path),
    path,
    type:
      change.kind === 'addDir' || change.kind === 'unlinkDir'
        ? 'directory'
        : 'file'
  } as Partial<Contents.IModel>;
  switch (change.kind) {
    case 'unlink':
    case 'unlinkDir':
      return { type: 'delete', oldValue: model, newValue: null };
    case 'change':
      return { type: 'save', oldValue: null, newValue: model };
    default:
      return { type: 'new', oldValue: null, newValue: model };
  }
}

export class ContainerDrive implements Contents.IDrive {
  /**
   * @param containers - the containers the drive root lists (running ones
   *   show as folders named after the container, at the container's id).
   * @param translator - JupyterLab's, for the errors the drive makes itself.
   */
  constructor(
    private readonly _client: ContainerClient,
    private readonly _sockets: SocketPool,
    private readonly _containers: () => readonly IDriveContainer[] = () => [],
    translator: ITranslator = nullTranslator
  ) {
    this._trans = translator.load('jupyter_container_manager');
  }

  private readonly _trans: TranslationBundle;

  readonly name = DRIVE_NAME;

  get serverSettings(): ServerConnection.ISettings {
    return this._client.settings;
  }

  get fileChanged(): ISignal<this, Contents.IChangedArgs> {
    return this._fileChanged;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    for (const watch of this._watches.values()) {
      watch.dispose();
    }
    this._watches.clear();
    Signal.clearData(this);
  }

  /** Stop following the changes of a (deleted) container. */
  forget(containerId: string): void {
    this._watches.get(containerId)?.dispose();
    this._watches.delete(containerId);
  }

  async get(
    localPath: string,
    options: Contents.IFetchOptions = {}
  ): Promise<Contents.IModel> {
    const { containerId, path } = splitLocalPath(localPath);
    if (!containerId) {
      return this._rootModel();
    }
    const stat = await this._stat(containerId, path, options.type);
    if (stat.type === 'directory') {
      this._follow(containerId);
      return this._directoryModel(
        containerId,
        path,
        stat,
        options.content !== false
      );
    }
    const base = this._fileModel(containerId, path, stat);
    if (options.content === false) {
      return { ...base, content: null, format: null } as Contents.IModel;
    }
    const bytes = new Uint8Array(
      await this._client.readBytes(containerId, path)
    );
    let format: Contents.FileFormat = options.format ?? null;
    let content: unknown;
    const text = format === 'base64' ? null : decodeUtf8(bytes);
    if (text !== null && (format === 'text' || format === null)) {
      format = 'text';
      content = text;
    } else if (format === 'json' && text !== null) {
      content = JSON.parse(text);
    } else {
      if (format === 'text' || format === 'json') {
        throw new ApiError(
          this._trans.__('%1 is not UTF-8 text', basename(path)),
          400,
          'Bad Request',
          'EINVAL'
        );
      }
      format = 'base64';
      content = bytesToBase64(bytes);
    }
    return {
      ...base,
      format,
      content,
      size: bytes.length,
      mimetype: mimetypeOf(base.name, format)
    };
  }

  async getDownloadUrl(localPath: string): Promise<string> {
    const { containerId, path } = splitLocalPath(localPath);
    return (
      this._client.settings.baseUrl.replace(/\/?$/, '/') +
      `webcontainer/${encodeURIComponent(containerId)}/fs/readFile${
        path === '/' ? '/' : path.split('/').map(encodeURIComponent).join('/')
      }`
    );
  }

  async newUntitled(
    options: Contents.ICreateOptions = {}
  ): Promise<Contents.IModel> {
    const { containerId, path: dir } = splitLocalPath(options.path ?? '');
    const isDir = options.type === 'directory';
    const ext = isDir ? '' : (options.ext ?? '.txt');
    const stem = isDir ? 'Untitled Folder' : 'untitled';
    const names = new Set(
      (await this._client.readdir(containerId, dir)).map(e => e.name)
    );
    let name = `${stem}${ext}`;
    for (let i = 1; names.has(name); i++) {
      name = `${stem}${i}${ext}`;
    }
    const path = join(dir, name);
    if (isDir) {
      await this._client.mkdir(containerId, path);
    } else {
      await this._client.writeText(containerId, path, '');
    }
    const model = await this.get(toLocalPath(containerId, path), {
      content: false
    });
    this._fileChanged.emit({ type: 'new', oldValue: null, newValue: model });
    return model;
  }

  async delete(localPath: string): Promise<void> {
    const { containerId, path } = splitLocalPath(localPath);
    await this._client.rm(containerId, path, true);
    this._checkpoints.delete(localPath);
    this._fileChanged.emit({
      type: 'delete',
      oldValue: { path: localPath },
      newValue: null
    });
  }

  async rename(
    oldLocalPath: string,
    newLocalPath: string
  ): Promise<Contents.IModel> {
    const from = splitLocalPath(oldLocalPath);
    const to = splitLocalPath(newLocalPath);
    if (from.containerId !== to.containerId) {
      throw new ApiError(
        this._trans.__('Files cannot be moved between containers'),
        400,
        'Bad Request',
        'EXDEV'
      );
    }
    await this._client.rename(from.containerId, from.path, to.path);
    const model = await this.get(newLocalPath, { content: false });
    this._fileChanged.emit({
      type: 'rename',
      oldValue: { path: oldLocalPath },
      newValue: model
    });
    return model;
  }

  async save(
    localPath: string,
    options: Partial<Contents.IModel> = {}
  ): Promise<Contents.IModel> {
    const { containerId, path } = splitLocalPath(localPath);
    const chunk = (options as { chunk?: number }).chunk;
    if (options.type === 'directory') {
      await this._client.mkdir(containerId, path, true);
    } else if (options.format === 'base64' && chunk !== undefined) {
      // JupyterLab uploads large files in numbered chunks, -1 the last: the
      // chunks wait here and the file is written once, whole.
      const bytes = base64ToBytes(String(options.content ?? ''));
      const parts = chunk === 1 ? [] : (this._chunks.get(localPath) ?? []);
      parts.push(bytes);
      if (chunk !== -1) {
        this._chunks.set(localPath, parts);
        return {
          ...this._fileModel(containerId, path, {
            type: 'file',
            size: 0,
            mtime: ''
          }),
          content: null,
          format: null
        } as Contents.IModel;
      }
      this._chunks.delete(localPath);
      await this._client.writeBytes(containerId, path, new Blob(parts));
    } else if (options.format === 'base64') {
      const bytes = base64ToBytes(String(options.content ?? ''));
      await this._client.writeBytes(containerId, path, new Blob([bytes]));
    } else if (options.format === 'json') {
      await this._client.writeText(
        containerId,
        path,
        JSON.stringify(options.content, null, 1) + '\n'
      );
    } else {
      await this._client.writeText(
        containerId,
        path,
        String(options.content ?? '')
      );
    }
    const model = await this.get(localPath, { content: false });
    this._fileChanged.emit({ type: 'save', oldValue: null, newValue: model });
    return model;
  }

  async copy(localPath: string, toLocalDir: string): Promise<Contents.IModel> {
    const from = splitLocalPath(localPath);
    const to = splitLocalPath(toLocalDir);
    const names = new Set(
      (await this._client.readdir(to.containerId, to.path)).map(e => e.name)
    );
    const name = basename(from.path);
    const dot = name.lastIndexOf('.');
    const stem = dot > 0 ? name.slice(0, dot) : name;
    const ext = dot > 0 ? name.slice(dot) : '';
    // As Jupyter's own contents manager: the same name in another folder,
    // name-Copy1, name-Copy2, ... beside the original.
    let target = name;
    for (let i = 1; names.has(target); i++) {
      target = `${stem}-Copy${i}${ext}`;
    }
    const path = join(to.path, target);
    await this._copyInto(from.containerId, from.path, to.containerId, path);
    const model = await this.get(toLocalPath(to.containerId, path), {
      content: false
    });
    this._fileChanged.emit({ type: 'new', oldValue: null, newValue: model });
    return model;
  }

  /** Checkpoints live in memory for this page: enough to revert an edit. */
  async createCheckpoint(
    localPath: string
  ): Promise<Contents.ICheckpointModel> {
    const { containerId, path } = splitLocalPath(localPath);
    const bytes = await this._client.readBytes(containerId, path);
    const checkpoint = {
      id: 'checkpoint',
      last_modified: new Date().toISOString()
    };
    this._checkpoints.set(localPath, { ...checkpoint, bytes });
    return checkpoint;
  }

  async listCheckpoints(
    localPath: string
  ): Promise<Contents.ICheckpointModel[]> {
    const checkpoint = this._checkpoints.get(localPath);
    return checkpoint
      ? [{ id: checkpoint.id, last_modified: checkpoint.last_modified }]
      : [];
  }

  async restoreCheckpoint(
    localPath: string,
    checkpointID: string
  ): Promise<void> {
    const checkpoint = this._checkpoints.get(localPath);
    if (!checkpoint || checkpoint.id !== checkpointID) {
      throw new ApiError(
        this._trans.__('No such checkpoint'),
        404,
        'Not Found',
        'ENOENT'
      );
    }
    const { containerId, path } = splitLocalPath(localPath);
    await this._client.writeBytes(
      containerId,
      path,
      new Blob([checkpoint.bytes])
    );
  }

  async deleteCheckpoint(
    localPath: string,
    checkpointID: string
  ): Promise<void> {
    if (this._checkpoints.get(localPath)?.id === checkpointID) {
      this._checkpoints.delete(localPath);
    }
  }

  /** Copy a file, or a folder with everything in it. */
  private async _copyInto(
    fromId: string,
    fromPath: string,
    toId: string,
    toPath: string
  ): Promise<void> {
    const stat = await this._stat(fromId, fromPath);
    if (stat.type !== 'directory') {
      const bytes = await this._client.readBytes(fromId, fromPath);
      await this._client.writeBytes(toId, toPath, new Blob([bytes]));
      return;
    }
    await this._client.mkdir(toId, toPath);
    for (const entry of await this._client.readdir(fromId, fromPath)) {
      await this._copyInto(
        fromId,
        join(fromPath, entry.name),
        toId,
        join(toPath, entry.name)
      );
    }
  }

  /**
   * Follow a listed container's changes (its `fs-change` pushes, by anyone:
   * a terminal, a process, the REST API) as `fileChanged`, so that a file
   * browser on the drive shows them at once.
   */
  private _follow(containerId: string): void {
    if (this._watches.has(containerId) || this._isDisposed) {
      return;
    }
    const socket = this._sockets.get(containerId);
    const watch = async () => {
      try {
        await socket.request(ClientEvent.FsOperation, {
          type: 'watch',
          path: '/',
          recursive: true
        });
      } catch (error) {
        console.warn('jupyter-container-manager: no watch on the drive', error);
      }
    };
    const subscriptions = [
      socket.on(ServerEvent.FsChange, (data: IFsChange) => {
        if (typeof data?.path === 'string') {
          this._fileChanged.emit(changeOf(containerId, data));
        }
      }),
      // A watch lives as long as the server's socket: again on every join.
      socket.onJoined(() => void watch())
    ];
    this._watches.set(containerId, {
      dispose: () => subscriptions.forEach(s => s.dispose())
    });
    if (socket.joined && socket.status === 'open') {
      void watch();
    }
  }

  /** The drive root: the running containers, as folders. */
  private _rootModel(): Contents.IModel {
    const content = this._containers()
      .filter(c => c.status === 'running')
      .map(c => ({
        name: c.name,
        path: c.id,
        type: 'directory',
        writable: false,
        created: '',
        last_modified: '',
        mimetype: '',
        content: null,
        format: null
      }));
    return {
      name: '',
      path: '',
      type: 'directory',
      writable: false,
      created: '',
      last_modified: '',
      mimetype: '',
      content,
      format: 'json'
    } as Contents.IModel;
  }

  private async _stat(
    containerId: string,
    path: string,
    typeHint?: string
  ): Promise<IStat> {
    if (path === '/' || typeHint === 'directory') {
      return { type: 'directory', size: 0, mtime: '' };
    }
    try {
      const reply = await this._sockets
        .get(containerId)
        .request(
          ClientEvent.FsOperation,
          { type: 'stat', path },
          { timeout: 15000 }
        );
      const result = reply.data?.result ?? {};
      return {
        type: result.type ?? 'file',
        size: Number(result.size ?? 0),
        mtime: result.mtime ?? ''
      };
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') {
        throw new ApiError(
          `ENOENT: no such file or directory, stat '${path}'`,
          404,
          'Not Found',
          'ENOENT'
        );
      }
      // Socket unavailable: the file routes still answer.
      return { type: 'file', size: 0, mtime: '' };
    }
  }

  private _fileModel(containerId: string, path: string, stat: IStat) {
    const modified = mtimeToIso(stat.mtime);
    return {
      name: basename(path),
      path: toLocalPath(containerId, path),
      type: 'file',
      writable: true,
      created: modified,
      last_modified: modified,
      mimetype: mimetypeOf(basename(path), null),
      size: stat.size
    };
  }

  private async _directoryModel(
    containerId: string,
    path: string,
    stat: IStat,
    withContent: boolean
  ): Promise<Contents.IModel> {
    const modified = mtimeToIso(stat.mtime);
    let content: Contents.IModel[] | null = null;
    if (withContent) {
      const entries = await this._client.readdir(containerId, path);
      // Sizes and times for a file browser's columns and sorting: one stat
      // per entry on the socket (all at once), for folders of a sensible size.
      const stats: (IStat | null)[] =
        entries.length <= MAX_STATS_PER_LISTING
          ? await Promise.all(
              entries.map(entry =>
                this._stat(containerId, join(path, entry.name)).then(
                  stat => (stat.mtime === '' ? null : stat),
                  () => null
                )
              )
            )
          : entries.map(() => null);
      content = entries.map((entry, index) => {
        const childPath = join(path, entry.name);
        const isDir = entry.type === 'directory';
        const stat = stats[index];
        const modified = stat ? mtimeToIso(stat.mtime) : '';
        return {
          name: entry.name,
          path: toLocalPath(containerId, childPath),
          type: isDir ? 'directory' : 'file',
          writable: true,
          created: modified,
          last_modified: modified,
          mimetype: isDir ? '' : mimetypeOf(entry.name, null),
          size: stat && !isDir ? stat.size : undefined,
          content: null,
          format: null
        } as Contents.IModel;
      });
    }
    return {
      name: path === '/' ? containerId : basename(path),
      path: toLocalPath(containerId, path),
      type: 'directory',
      writable: true,
      created: modified,
      last_modified: modified,
      mimetype: '',
      content,
      format: withContent ? 'json' : null
    };
  }

  private _isDisposed = false;
  private _watches = new Map<string, { dispose: () => void }>();
  private _chunks = new Map<string, Uint8Array[]>();
  private _fileChanged = new Signal<this, Contents.IChangedArgs>(this);
  private _checkpoints = new Map<
    string,
    { id: string; last_modified: string; bytes: ArrayBuffer }
  >();
}
