/**
 * Live metrics of one container: the `metrics-subscribe` subscription on its
 * socket (again after every rejoin), the last minute of `metrics` pushes, and
 * the pure helpers that draw them (sparkline points, byte sizes).
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { SocketPool } from './sockets';
import { IMetricsData } from './webcontainer/protocol.generated';

/** How much history the sparklines show. */
export const METRICS_WINDOW_MS = 60_000;

/** The readings of the last `windowMs`, oldest first. */
export class MetricsHistory {
  constructor(readonly windowMs = METRICS_WINDOW_MS) {}

  get samples(): readonly IMetricsData[] {
    return this._samples;
  }

  get latest(): IMetricsData | null {
    return this._samples[this._samples.length - 1] ?? null;
  }

  add(sample: IMetricsData): void {
    this._samples.push(sample);
    const newest = Date.parse(sample.time);
    if (Number.isNaN(newest)) {
      return;
    }
    while (
      this._samples.length > 1 &&
      newest - Date.parse(this._samples[0].time) > this.windowMs
    ) {
      this._samples.shift();
    }
  }

  clear(): void {
    this._samples = [];
  }

  private _samples: IMetricsData[] = [];
}

/**
 * The `points` of an SVG polyline of `values` in a `width` × `height` box:
 * the newest value at the right edge, one step per reading of a one-minute
 * window (`slots` readings), 0 at the bottom and `max` at the top.
 */
export function sparklinePoints(
  values: readonly number[],
  width: number,
  height: number,
  max: number,
  slots = 60
): string {
  if (values.length === 0) {
    return '';
  }
  const step = width / Math.max(slots - 1, 1);
  const top = max > 0 ? max : 1;
  const shown = values.slice(-slots);
  const offset = width - (shown.length - 1) * step;
  return shown
    .map((value, index) => {
      const x = offset + index * step;
      const clamped = Math.min(Math.max(value, 0), top);
      const y = height - (clamped / top) * height;
      return `${round(x)},${round(y)}`;
    })
    .join(' ');
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

/** A byte count for people: "512 B", "1.5 KiB", "230 MiB", "2.0 GiB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) {
    return `${Math.round(value)} B`;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/**
 * The live metrics of at most one container at a time: `follow(id)`
 * subscribes on that container's socket (and unsubscribes from the previous
 * one), `follow(null)` stops. The subscription is sent again after every
 * rejoin (a new connection starts without it).
 */
export class MetricsFeed implements IDisposable {
  constructor(private readonly _sockets: SocketPool) {}

  /** Emitted with every reading of the followed container (and on a switch). */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get containerId(): string | null {
    return this._containerId;
  }

  get history(): MetricsHistory {
    return this._history;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  follow(containerId: string | null): void {
    if (containerId === this._containerId || this._isDisposed) {
      return;
    }
    this._stop();
    this._containerId = containerId;
    this._history.clear();
    if (containerId) {
      const socket = this._sockets.get(containerId);
      const subscribe = () =>
        void socket.request('metrics-subscribe', { on: true }).catch(() => {
          // The container stopped or went away: the panel shows no readings.
        });
      this._subscription = [
        socket.on('metrics', (data: IMetricsData) => {
          if (data?.containerId && data.containerId !== containerId) {
            return;
          }
          this._history.add(data);
          this._changed.emit();
        }),
        socket.onJoined(subscribe)
      ];
      if (socket.joined && socket.status === 'open') {
        subscribe();
      }
    }
    this._changed.emit();
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._stop();
    this._isDisposed = true;
    Signal.clearData(this);
  }

  private _stop(): void {
    for (const item of this._subscription) {
      item.dispose();
    }
    this._subscription = [];
    const previous = this._containerId;
    const socket = previous ? this._sockets.peek(previous) : undefined;
    if (socket && socket.status === 'open') {
      void socket.request('metrics-subscribe', { on: false }).catch(() => {
        // Gone already: nothing to stop.
      });
    }
  }

  private _containerId: string | null = null;
  private _history = new MetricsHistory();
  private _subscription: IDisposable[] = [];
  private _isDisposed = false;
  private _changed = new Signal<this, void>(this);
}
