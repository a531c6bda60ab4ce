/**
 * A JupyterLab contents drive over the containers' file systems, so that a
 * container file opens in JupyterLab's own editor (a DocumentWidget) and
 * saving writes it back through the REST API.
 *
 * Paths: `container:<containerId>/<path in the workdir>`.
 */
import { Contents, ServerConnection } from '@jupyterlab/services';
import { ISignal, Signal } from '@lumino/signaling';

import { ApiError } from './api';
import { ContainerClient } from './client';
import { basename, join, normalize } from './webcontainer/paths';
import { ClientEvent } from './socket';
import { SocketPool } from './sockets';
import { IStat } from './types';

export const DRIVE_NAME = 'container';

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

export class ContainerDrive implements Contents.IDrive {
  constructor(
    private readonly _client: ContainerClient,
    private readonly _sockets: SocketPool
  ) {}

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
    Signal.clearData(this);
  }

  async get(
    localPath: string,
    options: Contents.IFetchOptions = {}
  ): Promise<Contents.IModel> {
    const { containerId, path } = splitLocalPath(localPath);
    const stat = await this._stat(containerId, path, options.type);
    if (stat.type === 'directory') {
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
          `${basename(path)} is not UTF-8 text`,
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
        'Files cannot be moved between containers',
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
    if (options.type === 'directory') {
      await this._client.mkdir(containerId, path, true);
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
    const bytes = await this._client.readBytes(from.containerId, from.path);
    const names = new Set(
      (await this._client.readdir(to.containerId, to.path)).map(e => e.name)
    );
    const name = basename(from.path);
    const dot = name.lastIndexOf('.');
    const stem = dot > 0 ? name.slice(0, dot) : name;
    const ext = dot > 0 ? name.slice(dot) : '';
    let target = `${stem}-Copy1${ext}`;
    for (let i = 2; names.has(target); i++) {
      target = `${stem}-Copy${i}${ext}`;
    }
    const path = join(to.path, target);
    await this._client.writeBytes(to.containerId, path, new Blob([bytes]));
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
      throw new ApiError('No such checkpoint', 404, 'Not Found', 'ENOENT');
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
      content = entries.map(entry => {
        const childPath = join(path, entry.name);
        const isDir = entry.type === 'directory';
        return {
          name: entry.name,
          path: toLocalPath(containerId, childPath),
          type: isDir ? 'directory' : 'file',
          writable: true,
          created: '',
          last_modified: '',
          mimetype: isDir ? '' : mimetypeOf(entry.name, null),
          content: null,
          format: null
        };
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
  private _fileChanged = new Signal<this, Contents.IChangedArgs>(this);
  private _checkpoints = new Map<
    string,
    { id: string; last_modified: string; bytes: ArrayBuffer }
  >();
}
