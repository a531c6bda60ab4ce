/**
 * A ContainerSocket over fake WebSockets, as the PTY specs (pty.spec.ts,
 * terminalconnection.spec.ts) use it: a new one before each test of the
 * describe block that calls useContainerSocket, with fake timers; disposed
 * after the test.
 */
import { afterEach, beforeEach, vi } from 'vitest';

import { ContainerSocket } from '../src/socket';
import { FakeSocket, socketFactory } from './fakes';

export const CONTAINER_ID = 'a6f1b7f0-2f0e-4c7d-8f55-0d3c4e5f6a7b';

export interface IContainerSocketFixture {
  /** The current test's socket. */
  readonly socket: ContainerSocket;
  /** The fake WebSockets it opened (the last one is the live one). */
  readonly fakes: ReturnType<typeof socketFactory>;
  /** Connect and join the container: the fake WebSocket joined on. */
  joinedSocket(): Promise<FakeSocket>;
  /** Let promise continuations run (the fake timers advance by 0). */
  settle(): Promise<void>;
}

export function useContainerSocket(): IContainerSocketFixture {
  let fakes: ReturnType<typeof socketFactory>;
  let socket: ContainerSocket;

  beforeEach(() => {
    vi.useFakeTimers();
    fakes = socketFactory();
    socket = new ContainerSocket(CONTAINER_ID, {
      url: 'ws://server/container',
      factory: fakes.factory,
      random: () => 0,
      backoff: { initial: 100, max: 1000, factor: 2 }
    });
  });

  afterEach(() => {
    socket.dispose();
    vi.useRealTimers();
  });

  return {
    get socket() {
      return socket;
    },
    get fakes() {
      return fakes;
    },
    joinedSocket: async () => {
      const joined = socket.connect();
      fakes.current().open();
      fakes.current().acceptJoin();
      await joined;
      return fakes.current();
    },
    settle: async () => {
      await vi.advanceTimersByTimeAsync(0);
    }
  };
}
