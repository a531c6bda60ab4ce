import { describe, expect, it } from 'vitest';

import { MetricsHistory, formatBytes, sparklinePoints } from '../src/metrics';
import { IMetricsData } from '../src/webcontainer/protocol.generated';

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
