/**
 * Typed calls of the REST routes in shared/API.md, all through requestAPI.
 */
import { ServerConnection } from '@jupyterlab/services';

import { apiUrl, requestAPI } from './api';
import { toUrlPath } from './paths';
import {
  ICreateContainerOptions,
  IContainerInfo,
  IDirEntry,
  IPortInfo
} from './types';

const JSON_HEADERS = { 'Content-Type': 'application/json' };

/** The REST client of one Jupyter server. */
export class ContainerClient {
  constructor(
    readonly settings: ServerConnection.ISettings = ServerConnection.makeSettings()
  ) {}

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

  // WebContainer API: file system

  private fs(id: string, rest: string): string {
    return `webcontainer/${encodeURIComponent(id)}/fs/${rest}`;
  }

  readdir(id: string, path: string): Promise<IDirEntry[]> {
    return this.request<IDirEntry[]>(
      this.fs(id, `readdir/${toUrlPath(path)}?withFileTypes=true`)
    );
  }

  readText(id: string, path: string): Promise<string> {
    return this.request<string>(
      this.fs(id, `readFile/${toUrlPath(path)}?encoding=utf-8`),
      {},
      'text'
    );
  }

  readBytes(id: string, path: string): Promise<ArrayBuffer> {
    return this.request<ArrayBuffer>(
      this.fs(id, `readFile/${toUrlPath(path)}`),
      {},
      'arraybuffer'
    );
  }

  readBlob(id: string, path: string): Promise<Blob> {
    return this.request<Blob>(
      this.fs(id, `readFile/${toUrlPath(path)}`),
      {},
      'blob'
    );
  }

  writeText(id: string, path: string, contents: string): Promise<void> {
    return this.post<void>(this.fs(id, 'writeFile'), {
      path,
      contents,
      encoding: 'utf-8'
    });
  }

  /** Write raw bytes (PUT), for binary content. */
  writeBytes(id: string, path: string, contents: BodyInit): Promise<void> {
    return this.request<void>(
      this.fs(id, `writeFile?path=${encodeURIComponent(path)}`),
      {
        method: 'PUT',
        headers: { 'Content-Type': 'application/octet-stream' },
        body: contents
      }
    );
  }

  /** The URL of the raw-bytes write route, for uploads with progress. */
  writeUrl(id: string, path: string): string {
    return apiUrl(
      this.fs(id, `writeFile?path=${encodeURIComponent(path)}`),
      this.settings
    );
  }

  mkdir(id: string, path: string, recursive = false): Promise<void> {
    return this.post<void>(this.fs(id, 'mkdir'), { path, recursive });
  }

  rm(id: string, path: string, recursive = false): Promise<void> {
    const query = `path=${encodeURIComponent(path)}&recursive=${recursive}&force=false`;
    return this.request<void>(this.fs(id, `rm?${query}`), {
      method: 'DELETE'
    });
  }

  rename(id: string, oldPath: string, newPath: string): Promise<void> {
    return this.post<void>(this.fs(id, 'rename'), { oldPath, newPath });
  }

  /** A directory as a zip archive. */
  exportZip(id: string, path: string): Promise<Blob> {
    return this.request<Blob>(
      `webcontainer/${encodeURIComponent(id)}/export?path=${encodeURIComponent(
        path
      )}&format=zip`,
      {},
      'blob'
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
