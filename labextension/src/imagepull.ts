/**
 * Image pulls as notifications: the server pushes `image-pull` to every open
 * socket while it pulls an image for a new container. A socket that joins no
 * container hears them (PushListener); ImagePullNotifications keeps one
 * notification per image, updated in place with a progress bar, then a
 * success, or an error with the server's reason.
 */
import { IDisposable } from '@lumino/disposable';

import { formatBytes } from './metrics';
import { IWebSocketLike } from './socket';
import { IImagePullData } from './webcontainer/protocol.generated';

/** The part of JupyterLab's `Notification` used here. */
export interface INotifier {
  emit(
    message: string,
    type: 'in-progress' | 'success' | 'error',
    options: { autoClose?: number | false; progress?: number }
  ): string;
  update(args: {
    id: string;
    message?: string;
    type?: 'in-progress' | 'success' | 'error';
    autoClose?: number | false;
    progress?: number;
  }): boolean;
  dismiss(id?: string): void;
}

/** The strings, through the translator (`trans.__`). */
export interface IPullStrings {
  __(msgid: string, ...args: any[]): string;
}

/**
 * How far a pull is, from 0 to 1: by bytes once sized, else by layers. Under
 * way it stays below 1 (a toast whose progress reaches 1 closes itself, and
 * the layers are still being unpacked).
 */
export function pullProgress(data: IImagePullData): number | undefined {
  if (data.status === 'done') {
    return 1;
  }
  if (data.bytes && data.bytes.total > 0) {
    return Math.min(data.bytes.current / data.bytes.total, UNDER_WAY_MAX);
  }
  if (data.layers && data.layers.total > 0) {
    return Math.min(data.layers.done / data.layers.total, UNDER_WAY_MAX);
  }
  return undefined;
}

const UNDER_WAY_MAX = 0.99;

const BAR_CELLS = 10;

/** A text progress bar: `▰▰▰▱▱▱▱▱▱▱ 30 %`. */
export function progressBar(fraction: number): string {
  const clamped = Math.min(Math.max(fraction, 0), 1);
  const full = Math.round(clamped * BAR_CELLS);
  return `${'▰'.repeat(full)}${'▱'.repeat(BAR_CELLS - full)} ${Math.floor(clamped * 100)} %`;
}

/** What a notification says about a pull. */
export function pullMessage(trans: IPullStrings, data: IImagePullData): string {
  switch (data.status) {
    case 'done':
      return trans.__('Pulled image %1', data.image);
    case 'failed':
      return trans.__(
        'Could not pull image %1: %2',
        data.image,
        data.message ?? trans.__('unknown error')
      );
    default: {
      const parts: string[] = [];
      if (data.layers && data.layers.total > 0) {
        parts.push(
          trans.__('%1 of %2 layers', data.layers.done, data.layers.total)
        );
      }
      if (data.bytes && data.bytes.total > 0) {
        parts.push(
          trans.__(
            '%1 of %2',
            formatBytes(data.bytes.current),
            formatBytes(data.bytes.total)
          )
        );
      }
      const progress = pullProgress(data);
      if (progress !== undefined) {
        parts.unshift(progressBar(progress));
      }
      return parts.length
        ? trans.__('Pulling image %1: %2', data.image, parts.join(', '))
        : trans.__('Pulling image %1…', data.image);
    }
  }
}

/** One notification per image being pulled, updated in place. */
export class ImagePullNotifications {
  constructor(
    private readonly _notifier: INotifier,
    private readonly _trans: IPullStrings
  ) {}

  /** The notification ids of the pulls under way, by image. */
  get active(): ReadonlyMap<string, string> {
    return this._active;
  }

  handle(data: IImagePullData): void {
    if (!data || typeof data.image !== 'string') {
      return;
    }
    const message = pullMessage(this._trans, data);
    const id = this._active.get(data.image);
    if (data.status === 'pulling') {
      const progress = pullProgress(data);
      if (id && this._notifier.update({ id, message, progress })) {
        return;
      }
      this._active.set(
        data.image,
        this._notifier.emit(message, 'in-progress', {
          autoClose: false,
          progress
        })
      );
      return;
    }
    // The end is a new notification (success or error) in place of the
    // progress one: a toast keeps its progress bar through an update.
    this._active.delete(data.image);
    if (id) {
      this._notifier.dismiss(id);
    }
    if (data.status === 'done') {
      this._notifier.emit(message, 'success', { autoClose: 5000 });
    } else {
      this._notifier.emit(message, 'error', { autoClose: false });
    }
  }

  private _active = new Map<string, string>();
}

/**
 * A `/container` socket that joins nothing and hands every push to
 * `onPush`; it connects again (after `retryMs`) when the connection drops.
 */
export class PushListener implements IDisposable {
  constructor(
    private readonly _options: {
      url: () => string;
      factory: (url: string) => IWebSocketLike;
      onPush: (event: string, data: any) => void;
      retryMs?: number;
    }
  ) {}

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** Connect (idempotent). */
  start(): void {
    if (this._ws || this._isDisposed) {
      return;
    }
    let ws: IWebSocketLike;
    try {
      ws = this._options.factory(this._options.url());
    } catch {
      this._retry();
      return;
    }
    this._ws = ws;
    ws.onmessage = (event: { data: unknown }) => {
      if (typeof event.data !== 'string') {
        return;
      }
      try {
        const frame = JSON.parse(event.data);
        if (
          frame &&
          typeof frame.event === 'string' &&
          (frame.id === undefined || frame.id === null)
        ) {
          this._options.onPush(frame.event, frame.data);
        }
      } catch {
        // not a JSON frame: nothing for us
      }
    };
    ws.onclose = () => {
      if (this._ws === ws) {
        this._ws = null;
        this._retry();
      }
    };
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    if (this._timer) {
      clearTimeout(this._timer);
    }
    const ws = this._ws;
    this._ws = null;
    ws?.close();
  }

  private _retry(): void {
    if (this._isDisposed || this._timer) {
      return;
    }
    this._timer = setTimeout(() => {
      this._timer = null;
      this.start();
    }, this._options.retryMs ?? 5000);
  }

  private _ws: IWebSocketLike | null = null;
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _isDisposed = false;
}
