import { describe, expect, it } from 'vitest';

import {
  MetricsFeed,
  MetricsHistory,
  formatBytes,
  sparklinePoints
} from '../src/metrics';
import { SocketPool } from '../src/sockets';
import { IMetricsData } from '../src/webcontainer/protocol.generated';
import { socketFactory } from './fakes';

function reading(seconds: number, percent = 0): IMetricsData {
  return {
    containerId: 'c1',
    time: new Date(Date.UTC(2026, 0, 1, 0, 0, seconds)).toISOString(),
    cpu: { percent, cores: 2, limit: 0 },
    memory: { used: 1024, limit: 4096 },
    processes: { count: 1, limit: 0 },
    disk: { used: null, limit: 0 },
    network: { rx: 0, tx: 0 }
  };
}

describe('MetricsHistory', () => {
  it('keeps one minute of readings, oldest first', () => {
    const history = new MetricsHistory();
    for (let s = 0; s <= 90; s++) {
      history.add(reading(s, s));
    }
    expect(history.samples[0].cpu.percent).toBe(30);
    expect(history.latest?.cpu.percent).toBe(90);
    expect(history.samples).toHaveLength(61);
    history.clear();
    expect(history.latest).toBeNull();
  });
});

describe('sparklinePoints', () => {
  it('puts the newest value at the right edge, scaled to max', () => {
    expect(sparklinePoints([0, 50, 100], 100, 10, 100, 3)).toBe(
      '0,10 50,5 100,0'
    );
  });

  it('clamps to the box and grows from the right', () => {
    expect(sparklinePoints([200], 100, 10, 100, 3)).toBe('100,0');
    expect(sparklinePoints([-5, 0], 100, 10, 100, 3)).toBe('50,10 100,10');
    expect(sparklinePoints([], 100, 10, 100)).toBe('');
  });
});

describe('formatBytes', () => {
  it('uses binary units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(230 * 1024 * 1024)).toBe('230 MiB');
  });
});

describe('MetricsFeed', () => {
  it('subscribes on the followed container, again after a rejoin, and stops on a switch', async () => {
    const fakes = socketFactory();
    const pool = new SocketPool({
      url: () => 'ws://s/container',
      factory: fakes.factory
    });
    const feed = new MetricsFeed(pool);
    let changes = 0;
    feed.changed.connect(() => changes++);

    feed.follow('c1');
    const first = fakes.current();
    first.open();
    first.acceptJoin();
    const subscribe = first.last('metrics-subscribe');
    expect(subscribe?.data).toEqual({ on: true });
    first.receive({ event: 'ok', id: subscribe!.id, data: {} });

    first.receive({ event: 'metrics', data: reading(1, 42) });
    first.receive({
      event: 'metrics',
      data: { ...reading(2, 99), containerId: 'other' }
    });
    expect(feed.history.latest?.cpu.percent).toBe(42);
    expect(changes).toBeGreaterThan(1);

    // A new connection joins again and subscribes again.
    first.drop();
    await new Promise(resolve => setTimeout(resolve, 1500));
    const again = fakes.current();
    expect(again).not.toBe(first);
    again.open();
    again.acceptJoin();
    expect(again.last('metrics-subscribe')?.data).toEqual({ on: true });

    // Another container: the first is told to stop, its readings go.
    feed.follow('c2');
    expect(again.last('metrics-subscribe')?.data).toEqual({ on: false });
    expect(feed.history.samples).toHaveLength(0);
    again.receive({ event: 'metrics', data: reading(3, 7) });
    expect(feed.history.latest).toBeNull();

    feed.dispose();
    pool.dispose();
  });
});
