/**
 * The `/container` protocol: event names and payload types.
 *
 * Generated from jupyter_container_manager/gateway/protocol.py by
 * `python -m jupyter_container_manager.gateway.codegen`; do not edit (a test fails when
 * it is stale). Part of the browser WebContainer client: imports nothing.
 */
/* eslint-disable */

/** The protocol version this client speaks. */
export const PROTOCOL_VERSION = 2;

/** The WebSocket subprotocol that names it. */
export const SUBPROTOCOL = 'jupyter-container-manager.v2';

/**
 * The subprotocols a client offers on every connect, highest version first
 * (the server picks the highest it speaks; none: version 1).
 */
export const SUBPROTOCOLS: readonly string[] = [
  'jupyter-container-manager.v2',
  'jupyter-container-manager.v1',
];

/**
 * From version 2 on, these pushes are binary frames: a header,
 * then the output's bytes (decode each pid's or terminal's frames with one
 * streaming UTF-8 decoder). Integers are unsigned big-endian.
 *   kind (1 byte): which push: 1 process-output, 2 pty-output (a client ignores others)
 *   flags (1 byte): 0x01 stderr, 0x02 replay, 0x04 dropped follows; other bits are 0
 *   idLength (1 byte): n, the length of the id in bytes (1 to 255)
 *   id (n bytes): UTF-8: process-output's pid in decimal, pty-output's terminalId
 *   dropped (8 bytes): with flag 0x04 only: pty-output's dropped (bytes missed)
 *   data (the rest): the output's bytes: a process's as it wrote them, a terminal's as UTF-8
 */
export const BINARY_VERSION = 2;
/** The first byte of a binary frame: which push it is. */
export const BinaryKind = {
  ProcessOutput: 1,
  PtyOutput: 2,
} as const;
/** The bits of a binary frame's second byte. */
export const BinaryFlag = {
  Stderr: 1,
  Replay: 2,
  Dropped: 4,
} as const;

/** Events a client sends. */
export const ClientEvent = {
  JoinContainer: 'join-container',
  FsOperation: 'fs-operation',
  ProcessOperation: 'process-operation',
  TerminalInput: 'terminal-input',
  PtyOpen: 'pty-open',
  PtyInput: 'pty-input',
  MetricsSubscribe: 'metrics-subscribe',
  PtyResize: 'pty-resize',
  PtyClose: 'pty-close',
} as const;

/** Events the server sends: replies and pushes. */
export const ServerEvent = {
  JoinedContainer: 'joined-container',
  FsResult: 'fs-result',
  ProcessResult: 'process-result',
  TerminalOutput: 'terminal-output',
  PtyOpened: 'pty-opened',
  Ok: 'ok',
  Error: 'error',
  FsChange: 'fs-change',
  ProcessOutput: 'process-output',
  ProcessExit: 'process-exit',
  PtyOutput: 'pty-output',
  PtyExit: 'pty-exit',
  Port: 'port',
  ServerReady: 'server-ready',
  Metrics: 'metrics',
  ImagePull: 'image-pull',
  ContainerStatus: 'container-status',
} as const;

/** `join-container`: Join a container: its pushes reach this socket, and the operations below act on it. Joining another container leaves the first. */
export interface IJoinContainerData {
  /** public id of the container */
  containerId: string;
  /** also get its live metrics (as metrics-subscribe) */
  metrics?: boolean;
}

/** `fs-operation` with type `readFile`. */
export interface IFsOperationReadFileData {
  /** the operation */
  type: 'readFile';
  /** path from the workdir ('/' is the workdir) */
  path: string;
  /** contents encoding */
  encoding?: 'utf-8' | 'utf8' | 'base64';
}

/** `fs-operation` with type `writeFile`. */
export interface IFsOperationWriteFileData {
  /** the operation */
  type: 'writeFile';
  /** path from the workdir ('/' is the workdir) */
  path: string;
  /** text, or base64 with encoding */
  contents: string;
  /** contents encoding */
  encoding?: 'utf-8' | 'utf8' | 'base64';
}

/** `fs-operation` with type `readdir`. */
export interface IFsOperationReaddirData {
  /** the operation */
  type: 'readdir';
  /** path from the workdir ('/' is the workdir) */
  path: string;
  /** answer [{name, type}] */
  withFileTypes?: boolean;
}

/** `fs-operation` with type `mkdir`. */
export interface IFsOperationMkdirData {
  /** the operation */
  type: 'mkdir';
  /** path from the workdir ('/' is the workdir) */
  path: string;
  /** make missing parents, accept existing */
  recursive?: boolean;
}

/** `fs-operation` with type `rm`. */
export interface IFsOperationRmData {
  /** the operation */
  type: 'rm';
  /** path from the workdir ('/' is the workdir) */
  path: string;
  /** remove directories and their contents */
  recursive?: boolean;
  /** ignore a missing path */
  force?: boolean;
}

/** `fs-operation` with type `rename`. */
export interface IFsOperationRenameData {
  /** the operation */
  type: 'rename';
  /** the old path (or oldPath) */
  path?: string;
  /** the old path (or path) */
  oldPath?: string;
  /** the new path; its parent must exist */
  newPath: string;
}

/** `fs-operation` with type `stat`. */
export interface IFsOperationStatData {
  /** the operation */
  type: 'stat';
  /** path from the workdir ('/' is the workdir) */
  path: string;
}

/** `fs-operation` with type `watch`. */
export interface IFsOperationWatchData {
  /** the operation */
  type: 'watch';
  /** path from the workdir ('/' is the workdir) */
  path: string;
  /** globs not watched (default: the watch_ignore setting, node_modules and .git) */
  exclude?: string[];
  /** globs reported (default: everything) */
  include?: string[];
}

/** `fs-operation` with type `unwatch`. */
export interface IFsOperationUnwatchData {
  /** the operation */
  type: 'unwatch';
  /** path from the workdir ('/' is the workdir) */
  path: string;
}

/** `fs-operation`: A file-system operation in the joined container, with Node's fs semantics. */
export type FsOperationData =
  | IFsOperationReadFileData
  | IFsOperationWriteFileData
  | IFsOperationReaddirData
  | IFsOperationMkdirData
  | IFsOperationRmData
  | IFsOperationRenameData
  | IFsOperationStatData
  | IFsOperationWatchData
  | IFsOperationUnwatchData;

/** `process-operation` with type `spawn`. */
export interface IProcessOperationSpawnData {
  /** the operation */
  type: 'spawn';
  /** program to run (argv[0]; no shell) */
  command: string;
  /** its arguments */
  args?: string[];
  /** working directory, from the workdir */
  cwd?: string;
  /** extra environment variables */
  env?: Record<string, string>;
  /** run on a pty of this size */
  terminal?: {
    /** terminal cols (at least 1, at most 1000) */
    cols: number;
    /** terminal rows (at least 1, at most 1000) */
    rows: number;
  };
}

/** `process-operation` with type `input`. */
export interface IProcessOperationInputData {
  /** the operation */
  type: 'input';
  /** pid of a process this socket spawned (at least 1, at most 2147483647) */
  pid: number;
  /** text for its stdin */
  data: string;
}

/** `process-operation` with type `kill`. */
export interface IProcessOperationKillData {
  /** the operation */
  type: 'kill';
  /** pid of a process this socket spawned (at least 1, at most 2147483647) */
  pid: number;
  /** signal to its process group: KILL (default), TERM, INT, HUP, QUIT, USR1, USR2, STOP, CONT or WINCH */
  signal?: string;
}

/** `process-operation` with type `resize`. */
export interface IProcessOperationResizeData {
  /** the operation */
  type: 'resize';
  /** pid of a process this socket spawned (at least 1, at most 2147483647) */
  pid: number;
  /** terminal cols (at least 1, at most 1000) */
  cols: number;
  /** terminal rows (at least 1, at most 1000) */
  rows: number;
}

/** `process-operation`: Spawn a process (argv, no shell) or talk to one this socket spawned. */
export type ProcessOperationData =
  | IProcessOperationSpawnData
  | IProcessOperationInputData
  | IProcessOperationKillData
  | IProcessOperationResizeData;

/** `terminal-input`: Run one command line (`sh`) in the container's remembered cwd; `cd` moves it. */
export interface ITerminalInputData {
  /** one command line */
  input: string;
}

/** `pty-open`: Open a real terminal (docker exec with a tty), or re-attach to a live one by id and replay its recent output. */
export interface IPtyOpenData {
  /** terminal cols (at least 1, at most 1000) */
  cols: number;
  /** terminal rows (at least 1, at most 1000) */
  rows: number;
  /** re-attach to this terminal */
  terminalId?: string;
}

/** `pty-input`: Keystrokes for a terminal. */
export interface IPtyInputData {
  /** id of a pty terminal */
  terminalId: string;
  /** text typed */
  data: string;
}

/** `metrics-subscribe`: Get (on: true) or stop getting (on: false) the joined container's live metrics while it runs, about one push a second (one engine stats stream per container, shared by its subscribers). Joining another container keeps the choice. */
export interface IMetricsSubscribeData {
  /** true: push metrics; false: stop */
  on: boolean;
}

/** `pty-resize`: Resize a terminal. */
export interface IPtyResizeData {
  /** id of a pty terminal */
  terminalId: string;
  /** terminal cols (at least 1, at most 1000) */
  cols: number;
  /** terminal rows (at least 1, at most 1000) */
  rows: number;
}

/** `pty-close`: Detach this socket from a terminal (it keeps running); with kill: end it. */
export interface IPtyCloseData {
  /** id of a pty terminal */
  terminalId: string;
  /** end the terminal's shell */
  kill?: boolean;
}

/** `joined-container` (reply): Reply to join-container. */
export interface IJoinedContainerData {
  containerId: string;
  /** ContainerInfo status */
  status: 'creating' | 'running' | 'stopped' | 'exited' | 'error' | 'lost';
  /** the line terminal's remembered cwd */
  cwd: string;
  /** ids of its live pty terminals */
  terminals: string[];
  workdir: string;
}

/** `fs-result` (reply): Reply to fs-operation. */
export interface IFsResultData {
  type: 'readFile' | 'writeFile' | 'readdir' | 'mkdir' | 'rm' | 'rename' | 'stat' | 'watch' | 'unwatch';
  /** readFile: {contents, encoding}; readdir: names or [{name, type}]; stat: {type, size, mtime, mode}; others: null */
  result: unknown | null;
}

/** `process-result` (reply): Reply to process-operation. */
export interface IProcessResultData {
  type: 'spawn' | 'input' | 'kill' | 'resize';
  pid: number;
}

/** `terminal-output` (reply): Reply to terminal-input. */
export interface ITerminalOutputData {
  /** stdout and stderr, merged */
  output: string;
  exitCode: number;
  /** the remembered cwd after the line */
  cwd: string;
  /** the line ran past terminal_timeout: its process group was killed (exitCode 124) */
  timedOut?: boolean;
  /** the output was cut at spawn_output_limit */
  truncated?: boolean;
}

/** `pty-opened` (reply): Reply to pty-open. */
export interface IPtyOpenedData {
  terminalId: string;
  /** true when a live terminal was re-attached */
  reattached: boolean;
}

/** `ok` (reply): Reply to a request whose event names no result. */
export interface IOkData {
  [key: string]: never;
}

/** `error` (reply): Reply to a bad or failed request (with its id when it had one). */
export interface IErrorData {
  message: string;
  /** Node or protocol error code */
  code?: string | null;
}

/** `fs-change` (push): A watched path changed (by anyone). */
export interface IFsChangeData {
  /** path from the workdir */
  path: string;
  /** what happened to it */
  kind: 'add' | 'change' | 'unlink' | 'addDir' | 'unlinkDir';
}

/** `process-output` (push): Output of a spawned process (stdout and stderr). */
export interface IProcessOutputData {
  pid: number;
  data: string;
}

/** `process-exit` (push): A spawned process ended. */
export interface IProcessExitData {
  pid: number;
  exitCode: number;
}

/** `pty-output` (push): Terminal output (and the replay on re-attach). */
export interface IPtyOutputData {
  terminalId: string;
  data: string;
  /** bytes this socket missed while it read too slowly */
  dropped?: number;
  /** true on the recent output sent when attaching */
  replay?: boolean;
}

/** `pty-exit` (push): A terminal's shell ended. */
export interface IPtyExitData {
  terminalId: string;
  exitCode: number;
}

/** `port` (push): A port in the container started or stopped listening. */
export interface IPortData {
  port: number;
  /** opened or closed */
  type: 'open' | 'close';
  /** preview URL */
  url: string;
}

/** `server-ready` (push): A server in the container listens on a port. */
export interface IServerReadyData {
  port: number;
  url: string;
}

/** `metrics` (push): A reading of the joined container's use of the machine (GET /containers/{id}/metrics has the same fields). */
export interface IMetricsData {
  containerId: string;
  /** when the engine read it (RFC 3339) */
  time: string;
  /** CPU */
  cpu: {
    /** since the previous reading, in percent of one core (200: two cores busy) */
    percent: number;
    /** cores of the engine's host */
    cores: number;
    /** cores the container may use (0: no cap) */
    limit: number;
  };
  /** memory, page cache not counted */
  memory: {
    /** bytes */
    used: number;
    /** bytes: the container's limit, else the machine's */
    limit: number;
  };
  /** processes */
  processes: {
    count: number;
    /** 0: no limit */
    limit: number;
  };
  /** disk */
  disk: {
    /** bytes: the disk quota's file system, else the writable layer (read every metrics_disk_interval seconds); null: not known */
    used: number | null;
    /** the disk quota in bytes (0: none) */
    limit: number;
  };
  /** bytes since the container started */
  network: {
    rx: number;
    tx: number;
  };
}

/** `image-pull` (push): An image is being pulled for a new container (sent to every socket of the server, joined or not): progress about 4 times a second, then done, or failed with the reason (the create answers IMAGE_NOT_FOUND with the same message). */
export interface IImagePullData {
  image: string;
  status: 'pulling' | 'done' | 'failed';
  /** layers seen so far and pulled (or already there) */
  layers?: {
    total: number;
    done: number;
  };
  /** bytes downloaded of the layers sized so far */
  bytes?: {
    current: number;
    total: number;
  };
  /** with failed: why, in plain words */
  message?: string;
}

/** `container-status` (push): The joined container changed status (removed: deleted; unknown: the Docker engine stopped answering, its terminals and watchers ended; lost: the same for the swarm node that runs it; the real status follows once it answers again, running re-opens it). */
export interface IContainerStatusData {
  containerId: string;
  status: 'creating' | 'running' | 'stopped' | 'exited' | 'error' | 'lost' | 'removed' | 'unknown';
  /** with unknown and lost: ENGINE_UNAVAILABLE */
  code?: string;
  /** with unknown and lost: what is wrong (which node) and how to fix it */
  message?: string;
}

/** The data of each client event. */
export interface IClientEventData {
  'join-container': IJoinContainerData;
  'fs-operation': FsOperationData;
  'process-operation': ProcessOperationData;
  'terminal-input': ITerminalInputData;
  'pty-open': IPtyOpenData;
  'pty-input': IPtyInputData;
  'metrics-subscribe': IMetricsSubscribeData;
  'pty-resize': IPtyResizeData;
  'pty-close': IPtyCloseData;
}

/** The data of each server event. */
export interface IServerEventData {
  'joined-container': IJoinedContainerData;
  'fs-result': IFsResultData;
  'process-result': IProcessResultData;
  'terminal-output': ITerminalOutputData;
  'pty-opened': IPtyOpenedData;
  'ok': IOkData;
  'error': IErrorData;
  'fs-change': IFsChangeData;
  'process-output': IProcessOutputData;
  'process-exit': IProcessExitData;
  'pty-output': IPtyOutputData;
  'pty-exit': IPtyExitData;
  'port': IPortData;
  'server-ready': IServerReadyData;
  'metrics': IMetricsData;
  'image-pull': IImagePullData;
  'container-status': IContainerStatusData;
}

export type ClientEventName = keyof IClientEventData;

export type ServerEventName = keyof IServerEventData;

/** The event that answers each client event (`ok` where none is named). */
export const REPLY_EVENT = {
  'join-container': 'joined-container',
  'fs-operation': 'fs-result',
  'process-operation': 'process-result',
  'terminal-input': 'terminal-output',
  'pty-open': 'pty-opened',
  'pty-input': 'ok',
  'metrics-subscribe': 'ok',
  'pty-resize': 'ok',
  'pty-close': 'ok',
} as const;

/** The events the server pushes (frames without an id). */
export const PUSH_EVENTS: readonly ServerEventName[] = [
  'fs-change',
  'process-output',
  'process-exit',
  'pty-output',
  'pty-exit',
  'port',
  'server-ready',
  'metrics',
  'image-pull',
  'container-status',
];

/** The data of the reply to a client event. */
export type ReplyData<E extends ClientEventName> =
  IServerEventData[(typeof REPLY_EVENT)[E]];
