/**
 * Shapes of the public contract (shared/API.md) as the front end sees them.
 * The socket's event payloads are generated from the protocol table
 * (./webcontainer/protocol.generated).
 */

export type {
  ClientEventName,
  IClientEventData,
  IServerEventData,
  ServerEventName
} from './webcontainer/protocol.generated';

import type { EntryType, FileSystemTree } from './webcontainer/types';

/**
 * Lifecycle state of a managed container; `unknown` while the Docker engine does not
 * answer (a `container-status` push during an engine outage); `lost` while the swarm
 * node that runs it does not answer (`reason` says which).
 */
export type ContainerStatus =
  'creating' | 'running' | 'stopped' | 'exited' | 'error' | 'lost' | 'unknown';

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
  /** The disk quota in bytes (limit 0: none) and its use (null where not known cheaply). */
  disk?: { limit: number; used: number | null };
  /** With status `lost`: which swarm node does not answer, and what failed. */
  reason?: string;
}

/** Body of POST /containers. */
export interface ICreateContainerOptions {
  name?: string;
  image?: string;
  env?: Record<string, string>;
  files?: FileSystemTree;
  ports?: number[];
  /** Start from this snapshot (its image and workdir). */
  snapshot?: string;
}

/** A snapshot (`GET /containers/snapshots`). */
export interface ISnapshotInfo {
  id: string;
  /** The container it was taken of. */
  container: string;
  name: string;
  created: string;
  size: number;
}

/** A checkpoint of a container's workdir and the files it recorded. */
export interface ICheckpointInfo {
  id: string;
  created: string;
  size: number;
  files: { path: string; change: string }[];
}

// The file system's wire shapes live with the browser WebContainer client, which
// imports nothing from outside its folder.
export type {
  EntryType,
  FileSystemTree,
  FsChangeKind,
  IDirEntry,
  IDirectoryNode,
  IFileNode,
  IFsChange
} from './webcontainer/types';
/** Payload of a `stat` fs-operation result. */
export interface IStat {
  type: EntryType;
  size: number;
  mtime: number | string;
  mode?: number;
}

/** Where preview links open. */
export type PreviewTarget = 'tab' | 'browser';
