/**
 * A tiny signal: `connect(slot, thisArg)` / `disconnect(slot, thisArg)` /
 * `emit(args)`, with slots called as `slot(sender, args)`. Shaped like
 * Lumino's ISignal so panel code can connect to it unchanged, without the
 * client depending on Lumino.
 */

export type Slot<T, U> = (sender: T, args: U) => void;

/** The listening side of an Emitter (what getters expose). */
export interface ISignalLike<T, U> {
  connect(slot: Slot<T, U>, thisArg?: unknown): boolean;
  disconnect(slot: Slot<T, U>, thisArg?: unknown): boolean;
}

export class Emitter<T, U> implements ISignalLike<T, U> {
  constructor(readonly sender: T) {}

  connect(slot: Slot<T, U>, thisArg?: unknown): boolean {
    if (this._find(slot, thisArg) >= 0) {
      return false;
    }
    this._slots.push({ slot, thisArg });
    return true;
  }

  disconnect(slot: Slot<T, U>, thisArg?: unknown): boolean {
    const index = this._find(slot, thisArg);
    if (index < 0) {
      return false;
    }
    this._slots.splice(index, 1);
    return true;
  }

  emit(args: U): void {
    for (const entry of [...this._slots]) {
      // A slot disconnected by an earlier one is not called (as in Lumino).
      if (!this._slots.includes(entry)) {
        continue;
      }
      const { slot, thisArg } = entry;
      try {
        slot.call(thisArg, this.sender, args);
      } catch (error) {
        console.error(error);
      }
    }
  }

  clear(): void {
    this._slots = [];
  }

  private _find(slot: Slot<T, U>, thisArg: unknown): number {
    return this._slots.findIndex(s => s.slot === slot && s.thisArg === thisArg);
  }

  private _slots: { slot: Slot<T, U>; thisArg: unknown }[] = [];
}

/** A handle that undoes a subscription (Lumino's IDisposable shape). */
export interface IDisposableLike {
  readonly isDisposed: boolean;
  dispose(): void;
}

/** A disposable that runs `onDispose` when disposed (and records that it was). */
export function disposable(onDispose: () => void): IDisposableLike {
  let disposed = false;
  return {
    get isDisposed() {
      return disposed;
    },
    dispose: () => {
      disposed = true;
      onDispose();
    }
  };
}
