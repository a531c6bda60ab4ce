/**
 * One ContainerSocket per container, shared by the explorer, the terminals,
 * the previews and the editor drive of that container.
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { ContainerSocket, IContainerSocketOptions } from './socket';

export class SocketPool implements IDisposable {
  constructor(
    private readonly _options: Omit<IContainerSocketOptions, 'url'> & {
      url: () => string;
    }
  ) {}

  /** Emitted with every socket the pool creates. */
  get socketCreated(): ISignal<this, ContainerSocket> {
    return this._socketCreated;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** The socket of a container, created and connected on first use. */
  get(containerId: string): ContainerSocket {
    let socket = this._sockets.get(containerId);
    if (!socket || socket.isDisposed) {
      socket = new ContainerSocket(containerId, this._options);
      this._sockets.set(containerId, socket);
      this._socketCreated.emit(socket);
      socket.connect().catch(() => {
        // Join errors reach the socket's errorReceived listeners.
      });
    }
    return socket;
  }

  /** The socket of a container if one is open. */
  peek(containerId: string): ContainerSocket | undefined {
    const socket = this._sockets.get(containerId);
    return socket && !socket.isDisposed ? socket : undefined;
  }

  /** Close the socket of a container (e.g. once it is deleted). */
  close(containerId: string): void {
    this._sockets.get(containerId)?.dispose();
    this._sockets.delete(containerId);
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    for (const socket of this._sockets.values()) {
      socket.dispose();
    }
    this._sockets.clear();
    Signal.clearData(this);
  }

  private _sockets = new Map<string, ContainerSocket>();
  private _isDisposed = false;
  private _socketCreated = new Signal<this, ContainerSocket>(this);
}
