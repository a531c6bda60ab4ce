/**
 * In-memory stand-ins for browser objects the logic talks to (a WebSocket, an
 * XMLHttpRequest), so unit tests can play the server's side frame by frame.
 */
import { IFrame, IWebSocketLike } from '../src/socket';
import { IXhrLike } from '../src/upload';

export class FakeSocket implements IWebSocketLike {
  constructor(
    readonly url: string,
    readonly protocols?: string[]
  ) {}

  readyState = 0;
  sent: IFrame[] = [];
  closed = false;
  onopen: ((ev: any) => any) | null = null;
  onclose: ((ev: any) => any) | null = null;
  onerror: ((ev: any) => any) | null = null;
  onmessage: ((ev: { data: any }) => any) | null = null;
  binaryType = 'blob';

  send(data: string): void {
    if (this.readyState !== 1) {
      throw new Error('send on a socket that is not open');
    }
    this.sent.push(JSON.parse(data));
  }

  close(): void {
    this.closed = true;
    this.readyState = 3;
  }

  // The server's side:

  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  receive(frame: IFrame | string): void {
    this.onmessage?.({
      data: typeof frame === 'string' ? frame : JSON.stringify(frame)
    });
  }

  /** A binary frame, as a browser delivers it with binaryType 'arraybuffer'. */
  receiveBinary(bytes: Uint8Array): void {
    this.onmessage?.({ data: bytes.slice().buffer });
  }

  drop(): void {
    this.readyState = 3;
    this.onerror?.({});
    this.onclose?.({ code: 1006 });
  }

  /** The last frame sent with this event. */
  last(event: string): IFrame | undefined {
    return [...this.sent].reverse().find(f => f.event === event);
  }

  /** Answer the join-container request. */
  acceptJoin(extra: Record<string, unknown> = {}): void {
    const join = this.last('join-container');
    if (!join) {
      throw new Error('no join-container sent');
    }
    this.receive({
      event: 'joined-container',
      id: join.id,
      data: { containerId: join.data.containerId, status: 'running', ...extra }
    });
  }
}

/** A factory that records every socket it makes. */
export function socketFactory(): {
  sockets: FakeSocket[];
  factory: (url: string, protocols?: string[]) => FakeSocket;
  current: () => FakeSocket;
} {
  const sockets: FakeSocket[] = [];
  return {
    sockets,
    factory: (url: string, protocols?: string[]) => {
      const socket = new FakeSocket(url, protocols);
      sockets.push(socket);
      return socket;
    },
    current: () => sockets[sockets.length - 1]
  };
}

export class FakeXhr implements IXhrLike {
  method = '';
  url = '';
  headers: Record<string, string> = {};
  body: Blob | null = null;
  aborted = false;
  status = 0;
  responseText = '';
  withCredentials = false;
  upload: {
    onprogress: ((ev: { loaded: number; total: number }) => any) | null;
  } = {
    onprogress: null
  };
  onload: ((ev: any) => any) | null = null;
  onerror: ((ev: any) => any) | null = null;
  onabort: ((ev: any) => any) | null = null;

  open(method: string, url: string): void {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(name: string, value: string): void {
    this.headers[name] = value;
  }
  send(body: Blob): void {
    this.body = body;
  }
  abort(): void {
    this.aborted = true;
    this.onabort?.({});
  }

  // The server's side:
  progress(loaded: number): void {
    this.upload.onprogress?.({ loaded, total: this.body?.size ?? 0 });
  }
  respond(status: number, text = ''): void {
    this.status = status;
    this.responseText = text;
    this.onload?.({});
  }
}
