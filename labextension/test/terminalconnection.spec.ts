/**
 * The PTY as a JupyterLab terminal session: JupyterLab's terminal messages
 * (stdin, set_size, stdout, disconnect) over our PTY frames.
 */
import type { Terminal } from '@jupyterlab/services';
import { describe, expect, it } from 'vitest';

import { PtySession } from '../src/pty';
import { FULL_RESET, PtyTerminalConnection } from '../src/terminalconnection';
import { FakeSocket } from './fakes';
import { useContainerSocket } from './socketfixture';
const SETTINGS = {} as any;

describe('PtyTerminalConnection', () => {
  const fixture = useContainerSocket();
  const { joinedSocket, settle } = fixture;

  async function opened(terminalId: string | null = null): Promise<{
    ws: FakeSocket;
    connection: PtyTerminalConnection;
    messages: Terminal.IMessage[];
    statuses: string[];
  }> {
    const ws = await joinedSocket();
    const session = new PtySession(fixture.socket, {
      cols: 80,
      rows: 24,
      terminalId
    });
    const connection = new PtyTerminalConnection({
      session,
      name: 'web',
      serverSettings: SETTINGS
    });
    const messages: Terminal.IMessage[] = [];
    const statuses: string[] = [];
    connection.messageReceived.connect((_, m) => messages.push(m));
    connection.connectionStatusChanged.connect((_, s) => statuses.push(s));
    // What JupyterLab's terminal sends before the PTY is open: its size.
    connection.send({ type: 'set_size', content: [40, 120, 600, 1000] });
    const open = connection.open();
    await settle();
    const frame = ws.last('pty-open')!;
    expect(frame.data).toEqual({
      cols: 120,
      rows: 40,
      ...(terminalId ? { terminalId } : {})
    });
    ws.receive({ event: 'pty-output', data: { terminalId: 'T1', data: '$ ' } });
    ws.receive({
      event: 'pty-opened',
      id: frame.id,
      data: { terminalId: 'T1' }
    });
    await open;
    return { ws, connection, messages, statuses };
  }

  it('is connected once the PTY opens, with its size and its first output', async () => {
    const { connection, messages, statuses } = await opened();
    expect(connection.connectionStatus).toBe('connected');
    expect(statuses).toEqual(['connected']);
    expect(connection.name).toBe('web');
    expect(connection.model).toEqual({ name: 'T1' });
    expect(messages).toEqual([{ type: 'stdout', content: ['$ '] }]);
  });

  it('sends stdin as pty-input and set_size (rows, cols) as pty-resize', async () => {
    const { ws, connection } = await opened();
    connection.send({ type: 'stdin', content: ['echo hi\r'] });
    connection.send({ type: 'set_size', content: [30, 100, 500, 900] });
    expect(ws.last('pty-input')!.data).toEqual({
      terminalId: 'T1',
      data: 'echo hi\r'
    });
    expect(ws.last('pty-resize')!.data).toEqual({
      terminalId: 'T1',
      cols: 100,
      rows: 30
    });
  });

  it('re-attaches to a remembered terminal: the view is reset, then the scrollback replayed', async () => {
    const { ws, connection, messages } = await opened();
    messages.length = 0;
    const again = connection.reconnect();
    await settle();
    const frame = ws.last('pty-open')!;
    expect(frame.data).toMatchObject({ terminalId: 'T1' });
    ws.receive({
      event: 'pty-output',
      data: { terminalId: 'T1', data: 'old output' }
    });
    ws.receive({
      event: 'pty-opened',
      id: frame.id,
      data: { terminalId: 'T1' }
    });
    await again;
    expect(messages).toEqual([
      { type: 'stdout', content: [FULL_RESET] },
      { type: 'stdout', content: ['old output'] }
    ]);
    expect(connection.connectionStatus).toBe('connected');
  });

  it('ends the shell on shutdown', async () => {
    const { ws, connection } = await opened();
    await connection.shutdown();
    expect(ws.last('pty-close')!.data).toEqual({
      terminalId: 'T1',
      kill: true
    });
    expect(connection.connectionStatus).toBe('disconnected');
  });

  it('says disconnect and is disposed when the shell exits', async () => {
    const { ws, connection, messages } = await opened();
    let disposed = false;
    connection.disposed.connect(() => (disposed = true));
    ws.receive({ event: 'pty-exit', data: { terminalId: 'T1', exitCode: 0 } });
    expect(messages.map(m => m.type)).toEqual([
      'stdout',
      'stdout',
      'disconnect'
    ]);
    expect(String(messages[1].content![0])).toContain('exited with code 0');
    expect(disposed).toBe(true);
    expect(connection.isDisposed).toBe(true);
  });
});
