/**
 * Typed calls of the REST routes in shared/API.md: the Direct API through
 * requestAPI, file work through the browser WebContainer client
 * (./webcontainer) over a transport made of ServerConnection (token, XSRF).
 */
import { ServerConnection } from '@jupyterlab/services';

import {
  ApiError,
  ServerExtensionMissingError,
  apiUrl,
  requestAPI
} from './api';
import { ERRNO, ITransport, WebContainer } from './webcontainer';
import { ContainerSocket } from './webcontainer/socket';
import {
  ICreateContainerOptions,
  ICheckpointInfo,
  IContainerInfo,
  ISnapshotInfo,
  IDirEntry,
  IPortInfo
} from './types';

const JSON_HEADERS = { 'Content-Type': 'application/json' };

/**
 * The WebContainer client's transport inside JupyterLab: requests through
 * ServerConnection.makeRequest (token, XSRF), sockets from `socketFor` (the
 * panel's pool, which keeps them when a WebContainer lets go).
 */
export function labTransport(
  settings: ServerConnection.ISettings,
  socketFor?: (containerId: string) => ContainerSocket
): ITransport {
  return {
    fetch: (endpoint, init = {}) =>
      ServerConnection.makeRequest(apiUrl(endpoint, settings), init, settings),
    socket: containerId => {
      if (!socketFor) {
        throw new Error('This client has no sockets');
      }
      return socketFor(containerId);
    },
    releaseSocket: () => undefined,
    resolveUrl: path => new URL(path, settings.baseUrl).href
  };
}

/** A Node-style error of the WebContainer client as the panel's ApiError. */
export function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) {
    return error;
  }
  const e = error as {
    message?: string;
    code?: string;
    status?: number;
    reason?: string | null;
  };
  if (e?.status === 404 && e.reason === undefined) {
    // A 404 without our JSON error body comes from Jupyter itself.
    return new ServerExtensionMissingError(404);
  }
  let message = e?.message ?? String(error);
  const code = e?.code ?? null;
  // Node codes stay in the message, as the server wrote it; others were added.
  if (code && ERRNO[code] === undefined && message.startsWith(`${code}: `)) {
    message = message.slice(code.length + 2);
  }
  return new ApiError(message, e?.status ?? 0, e?.reason ?? null, code);
}

async function viaClient<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    throw asApiError(error);
  }
}

/** The REST client of one Jupyter server. */
/** What `POST /containers/{id}/kernels` answers. */
export interface IContainerKernel {
  containerId: string;
  /** The Jupyter kernel model. */
  kernel: { id: string; name: string };
  /** The notebook session of `path`. */
  session: { id: string; path: string } | null;
  /** The notebook, relative to the server's root. */
  path: string;
}

export class ContainerClient {
  constructor(
    readonly settings: ServerConnection.ISettings = ServerConnection.makeSettings(),
    socketFor?: (containerId: string) => ContainerSocket
  ) {
    this.transport = labTransport(settings, socketFor);
  }

  /** The transport the WebContainer clients of this server use. */
  readonly transport: ITransport;

  /** The WebContainer client of a container (file and process work). */
  webcontainer(id: string): WebContainer {
    let container = this._containers.get(id);
    if (!container || container.isTornDown) {
      container = WebContainer.attach(id, { transport: this.transport });
      this._containers.set(id, container);
    }
    return container;
  }

  /** Forget the WebContainer client of a deleted container. */
  forget(id: string): void {
    this._containers.get(id)?.dispose();
    this._containers.delete(id);
  }

  private _containers = new Map<string, WebContainer>();

  private request<T>(
    endpoint: string,
    init: RequestInit = {},
    responseType?: 'json' | 'text' | 'blob' | 'arraybuffer'
  ): Promise<T> {
    return requestAPI<T>(endpoint, init, {
      settings: this.settings,
      responseType
    });
  }

  private post<T>(endpoint: string, body?: unknown): Promise<T> {
    return this.request<T>(endpoint, {
      method: 'POST',
      headers: JSON_HEADERS,
      body: JSON.stringify(body ?? {})
    });
  }

  // Direct API

  listContainers(): Promise<IContainerInfo[]> {
    return this.request<IContainerInfo[]>('containers');
  }

  getContainer(id: string): Promise<IContainerInfo> {
    return this.request<IContainerInfo>(`containers/${encodeURIComponent(id)}`);
  }

  createContainer(options: ICreateContainerOptions): Promise<IContainerInfo> {
    return this.post<IContainerInfo>('containers', options);
  }

  deleteContainer(id: string): Promise<void> {
    return this.request<void>(`containers/${encodeURIComponent(id)}`, {
      method: 'DELETE'
    });
  }

  containerAction(
    id: string,
    action: 'start' | 'stop' | 'restart'
  ): Promise<IContainerInfo> {
    return this.post<IContainerInfo>(
      `containers/${encodeURIComponent(id)}/${action}`
    );
  }

  /**
   * Start a kernel in a running container with a notebook session for
   * `path` (the server creates the notebook if missing).
   */
  openKernel(id: string, path: string): Promise<IContainerKernel> {
    return this.post<IContainerKernel>(
      `containers/${encodeURIComponent(id)}/kernels`,
      { path }
    );
  }

  // Snapshots, forks and checkpoints

  createSnapshot(id: string, name?: string): Promise<ISnapshotInfo> {
    return this.post<ISnapshotInfo>(
      `containers/${encodeURIComponent(id)}/snapshots`,
      name ? { name } : {}
    );
  }

  listSnapshots(): Promise<ISnapshotInfo[]> {
    return this.request<ISnapshotInfo[]>('containers/snapshots');
  }

  fork(id: string, count: number): Promise<{ containers: IContainerInfo[] }> {
    return this.post<{ containers: IContainerInfo[] }>(
      `containers/${encodeURIComponent(id)}/fork`,
      { count }
    );
  }

  createCheckpoint(id: string): Promise<ICheckpointInfo> {
    return this.post<ICheckpointInfo>(
      `containers/${encodeURIComponent(id)}/checkpoints`
    );
  }

  listCheckpoints(id: string): Promise<ICheckpointInfo[]> {
    return this.request<ICheckpointInfo[]>(
      `containers/${encodeURIComponent(id)}/checkpoints`
    );
  }

  restoreCheckpoint(
    id: string,
    checkpoint: string,
    paths?: string[]
  ): Promise<{ restored: { path: string; kind: string }[] }> {
    return this.post<{ restored: { path: string; kind: string }[] }>(
      `containers/${encodeURIComponent(id)}/checkpoints/${encodeURIComponent(checkpoint)}/restore`,
      paths ? { paths } : {}
    );
  }

  // WebContainer API: file system, through the WebContainer client

  private fs(id: string) {
    return this.webcontainer(id).fs;
  }

  readdir(id: string, path: string): Promise<IDirEntry[]> {
    return viaClient(
      this.fs(id)
        .readdir(path, { withFileTypes: true })
        .then(entries =>
          entries.map(entry => ({
            name: entry.name,
            type: entry.isDirectory()
              ? 'directory'
              : entry.isSymbolicLink()
                ? 'symlink'
                : 'file'
          }))
        )
    );
  }

  readText(id: string, path: string): Promise<string> {
    return viaClient(this.fs(id).readFile(path, 'utf-8'));
  }

  readBytes(id: string, path: string): Promise<ArrayBuffer> {
    return viaClient(
      this.fs(id)
        .readFile(path)
        .then(
          bytes =>
            bytes.buffer.slice(
              bytes.byteOffset,
              bytes.byteOffset + bytes.byteLength
            ) as ArrayBuffer
        )
    );
  }

  readBlob(id: string, path: string): Promise<Blob> {
    return viaClient(
      this.fs(id)
        .readFile(path)
        .then(bytes => new Blob([bytes as BlobPart]))
    );
  }

  writeText(id: string, path: string, contents: string): Promise<void> {
    return viaClient(this.fs(id).writeFile(path, contents));
  }

  /** Write raw bytes (PUT), for binary content. */
  writeBytes(
    id: string,
    path: string,
    contents: Uint8Array | Blob | ArrayBuffer
  ): Promise<void> {
    return viaClient(this.fs(id).writeFile(path, contents));
  }

  /** The URL of the raw-bytes write route, for uploads with progress. */
  writeUrl(id: string, path: string): string {
    return apiUrl(
      `webcontainer/${encodeURIComponent(id)}/fs/writeFile?path=${encodeURIComponent(path)}`,
      this.settings
    );
  }

  mkdir(id: string, path: string, recursive = false): Promise<void> {
    return viaClient(this.fs(id).mkdir(path, { recursive }));
  }

  rm(id: string, path: string, recursive = false): Promise<void> {
    return viaClient(this.fs(id).rm(path, { recursive, force: false }));
  }

  rename(id: string, oldPath: string, newPath: string): Promise<void> {
    return viaClient(this.fs(id).rename(oldPath, newPath));
  }

  /** A directory as a zip archive. */
  exportZip(id: string, path: string): Promise<Blob> {
    return viaClient(
      this.webcontainer(id)
        .export(path, { format: 'zip' })
        .then(
          bytes => new Blob([bytes as BlobPart], { type: 'application/zip' })
        )
    );
  }

  previewUrl(id: string, port: number): Promise<IPortInfo> {
    return this.request<IPortInfo>(
      `webcontainer/${encodeURIComponent(id)}/url?port=${port}`
    );
  }

  /** An absolute URL for a URL path answered by the server. */
  absoluteUrl(url: string): string {
    return new URL(url, this.settings.baseUrl).href;
  }
}
