/**
 * Shapes of the public contract (shared/API.md) as the front end sees them.
 * The socket's event payloads are generated from the protocol table
 * (./webcontainer/protocol.generated).
 */
import type { IFsChangeData } from './webcontainer/protocol.generated';

export type {
  ClientEventName,
  IClientEventData,
  IServerEventData,
  ServerEventName
} from './webcontainer/protocol.generated';

/**
 * Lifecycle state of a managed container; `unknown` while the Docker engine does not
 * answer (a `container-status` push during an engine outage).
 */
export type ContainerStatus =
  | 'creating'
  | 'running'
  | 'stopped'
  | 'exited'
  | 'error'
  | 'unknown';

/** A preview port: a container port and its proxied URL (a path from the server root). */
export interface IPortInfo {
  port: number;
  url: string;
}

/** ContainerInfo as answered by the Direct API. */
export interface IContainerInfo {
  id: string;
  name: string;
  image: string;
  status: ContainerStatus;
  created: string;
  owner: string;
  workdir: string;
  ports: IPortInfo[];
  limits?: { memory?: number; cpu_shares?: number; pids?: number };
}

/** Body of POST /containers. */
export interface ICreateContainerOptions {
  name?: string;
  image?: string;
  env?: Record<string, string>;
  files?: FileSystemTree;
  ports?: number[];
}

/**
 * A file leaf of a FileSystemTree, as in @webcontainer/api: text, or bytes
 * (a Uint8Array; on the wire, base64 with `encoding: 'base64'`).
 */
export interface IFileNode {
  file: { contents: string | Uint8Array; encoding?: 'utf-8' | 'base64' };
}

/** A directory of a FileSystemTree. */
export interface IDirectoryNode {
  directory: FileSystemTree;
}

/** WebContainer's FileSystemTree. */
export interface FileSystemTree {
  [name: string]: IFileNode | IDirectoryNode;
}

/** Kinds of entries answered by readdir with file types. */
export type EntryType = 'file' | 'directory' | 'symlink';

/** One entry of `readdir?withFileTypes=true`. */
export interface IDirEntry {
  name: string;
  type: EntryType;
}

/** Payload of an `fs-change` push (generated from the protocol table). */
export type IFsChange = IFsChangeData;

/** Kinds of `fs-change` pushes. */
export type FsChangeKind = IFsChangeData['kind'];

/** Payload of a `stat` fs-operation result. */
export interface IStat {
  type: EntryType;
  size: number;
  mtime: number | string;
  mode?: number;
}

/** Where preview links open. */
export type PreviewTarget = 'tab' | 'browser';
