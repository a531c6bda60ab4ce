import { describe, expect, it, vi } from 'vitest';

import { PtySession } from '../src/pty';
import { useContainerSocket } from './socketfixture';

describe('PtySession', () => {
  const fixture = useContainerSocket();
  const { joinedSocket, settle } = fixture;

  it('opens a terminal with its size and learns the id', async () => {
    const ws = await joinedSocket();
    const session = new PtySession(fixture.socket, { cols: 100, rows: 30 });
    const opened = session.open();
    await settle();
    const frame = ws.last('pty-open')!;
    expect(frame.data).toEqual({ cols: 100, rows: 30 });
    ws.receive({
      event: 'pty-opened',
      id: frame.id,
      data: { terminalId: 'T1' }
    });
    await expect(opened).resolves.toBe('T1');
    expect(session.terminalId).toBe('T1');
  });

  it('shows only its own output, including output that came before the id', async () => {
    const ws = await joinedSocket();
    const session = new PtySession(fixture.socket, { cols: 80, rows: 24 });
    const output: string[] = [];
    session.output.connect((_, data) => output.push(data));
    const opened = session.open();
    await settle();
    // The prompt may arrive before the pty-opened reply.
    ws.receive({ event: 'pty-output', data: { terminalId: 'T1', data: '$ ' } });
    ws.receive({
      event: 'pty-opened',
      id: ws.last('pty-open')!.id,
      data: { terminalId: 'T1' }
    });
    await opened;
    ws.receive({
      event: 'pty-output',
      data: { terminalId: 'OTHER', data: 'nope' }
    });
    ws.receive({
      event: 'pty-output',
      data: { terminalId: 'T1', data: 'hello\r\n' }
    });
    expect(output).toEqual(['$ ', 'hello\r\n']);
  });

  it('sends input and resizes with its id, skipping repeated sizes', async () => {
    const ws = await joinedSocket();
    const session = new PtySession(fixture.socket, { cols: 80, rows: 24 });
    const opened = session.open();
    await settle();
    ws.receive({
      event: 'pty-opened',
      id: ws.last('pty-open')!.id,
      data: { terminalId: 'T1' }
    });
    await opened;
    session.write('node -e "console.log(6*7)"\r');
    session.resize(120, 40);
    session.resize(120, 40);
    session.resize(0, 40);
    expect(
      ws.sent.filter(
        f => f.event !== 'join-container' && f.event !== 'pty-open'
      )
    ).toEqual([
      {
        event: 'pty-input',
        data: { terminalId: 'T1', data: 'node -e "console.log(6*7)"\r' }
      },
      { event: 'pty-resize', data: { terminalId: 'T1', cols: 120, rows: 40 } }
    ]);
  });

  it('re-attaches with the same id after a reconnect, asking the view to clear', async () => {
    const ws = await joinedSocket();
    const session = new PtySession(fixture.socket, { cols: 80, rows: 24 });
    const opened = session.open();
    await settle();
    ws.receive({
      event: 'pty-opened',
      id: ws.last('pty-open')!.id,
      data: { terminalId: 'T1' }
    });
    await opened;
    session.resize(90, 30);
    const events: string[] = [];
    session.reattaching.connect(() => events.push('clear'));
    session.output.connect((_, data) => events.push(data));

    ws.drop();
    await vi.advanceTimersByTimeAsync(50);
    const ws2 = fixture.fakes.current();
    expect(ws2).not.toBe(ws);
    ws2.open();
    ws2.acceptJoin({ terminals: ['T1'] });
    const reopen = ws2.last('pty-open')!;
    expect(reopen.data).toEqual({ cols: 90, rows: 30, terminalId: 'T1' });
    // Replayed scrollback arrives, then the reply.
    ws2.receive({
      event: 'pty-output',
      data: { terminalId: 'T1', data: 'old output' }
    });
    ws2.receive({
      event: 'pty-opened',
      id: reopen.id,
      data: { terminalId: 'T1' }
    });
    await settle();
    expect(events).toEqual(['clear', 'old output']);
    expect(session.terminalId).toBe('T1');
  });

  it('re-attaches to a remembered terminal id (page reload)', async () => {
    const ws = await joinedSocket();
    const session = new PtySession(fixture.socket, {
      cols: 80,
      rows: 24,
      terminalId: 'T9'
    });
    const output: string[] = [];
    session.output.connect((_, data) => output.push(data));
    const opened = session.open();
    await settle();
    const frame = ws.last('pty-open')!;
    expect(frame.data).toEqual({ cols: 80, rows: 24, terminalId: 'T9' });
    ws.receive({
      event: 'pty-output',
      data: { terminalId: 'T9', data: 'scrollback' }
    });
    ws.receive({
      event: 'pty-opened',
      id: frame.id,
      data: { terminalId: 'T9' }
    });
    await expect(opened).resolves.toBe('T9');
    expect(output).toEqual(['scrollback']);
  });

  it('opens a new terminal when the remembered one is gone', async () => {
    const ws = await joinedSocket();
    const session = new PtySession(fixture.socket, {
      cols: 80,
      rows: 24,
      terminalId: 'GONE'
    });
    const opened = session.open();
    await settle();
    ws.receive({
      event: 'error',
      id: ws.last('pty-open')!.id,
      data: { message: 'Unknown terminal GONE', code: 'ENOENT' }
    });
    await settle();
    const retry = ws.last('pty-open')!;
    expect(retry.data).toEqual({ cols: 80, rows: 24 });
    ws.receive({
      event: 'pty-opened',
      id: retry.id,
      data: { terminalId: 'NEW' }
    });
    await expect(opened).resolves.toBe('NEW');
  });

  it('reports the exit and stops sending input', async () => {
    const ws = await joinedSocket();
    const session = new PtySession(fixture.socket, { cols: 80, rows: 24 });
    const opened = session.open();
    await settle();
    ws.receive({
      event: 'pty-opened',
      id: ws.last('pty-open')!.id,
      data: { terminalId: 'T1' }
    });
    await opened;
    const codes: (number | null)[] = [];
    session.exited.connect((_, code) => codes.push(code));
    ws.receive({ event: 'pty-exit', data: { terminalId: 'T1', exitCode: 3 } });
    expect(codes).toEqual([3]);
    const before = ws.sent.length;
    session.write('ls\r');
    expect(ws.sent.length).toBe(before);
  });
});

describe('PtySession.close', () => {
  const fixture = useContainerSocket();

  it('sends pty-close with kill and stops sending input', async () => {
    const ws = await fixture.joinedSocket();
    const session = new PtySession(fixture.socket, { cols: 80, rows: 24 });
    const opened = session.open();
    await fixture.settle();
    ws.receive({
      event: 'pty-opened',
      id: ws.last('pty-open')!.id,
      data: { terminalId: 'T1' }
    });
    await opened;
    session.close(true);
    session.write('ls\r');
    expect(
      ws.sent.filter(f => f.event.startsWith('pty-') && f.event !== 'pty-open')
    ).toEqual([{ event: 'pty-close', data: { terminalId: 'T1', kill: true } }]);
  });
});
