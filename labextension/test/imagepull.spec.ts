import { describe, expect, it } from 'vitest';

import {
  ImagePullNotifications,
  INotifier,
  progressBar,
  pullMessage,
  pullProgress
} from '../src/imagepull';
import { IImagePullData } from '../src/webcontainer/protocol.generated';

const trans = {
  __: (msgid: string, ...args: any[]) =>
    msgid.replace(/%(\d)/g, (_, n) => String(args[Number(n) - 1]))
};

class FakeNotifier implements INotifier {
  shown = new Map<string, any>();
  log: string[] = [];
  count = 0;
  emit(message: string, type: any, options: any): string {
    const id = `n${++this.count}`;
    this.shown.set(id, { message, type, ...options });
    this.log.push(`emit ${id} ${type}`);
    return id;
  }
  update(args: any): boolean {
    const current = this.shown.get(args.id);
    if (!current) {
      return false;
    }
    this.shown.set(args.id, { ...current, ...args });
    this.log.push(`update ${args.id} ${args.type ?? current.type}`);
    return true;
  }
  dismiss(id: string): void {
    this.shown.delete(id);
    this.log.push(`dismiss ${id}`);
  }
}

const pulling = (image: string, current: number): IImagePullData => ({
  image,
  status: 'pulling',
  layers: { total: 2, done: current >= 100 ? 2 : 0 },
  bytes: { current, total: 100 }
});

describe('image pull notifications', () => {
  it('reads progress from bytes, else layers', () => {
    expect(pullProgress(pulling('a', 25))).toBe(0.25);
    expect(pullProgress(pulling('a', 100))).toBe(0.99);
    expect(
      pullProgress({
        image: 'a',
        status: 'pulling',
        layers: { total: 4, done: 1 }
      })
    ).toBe(0.25);
    expect(pullProgress({ image: 'a', status: 'pulling' })).toBeUndefined();
    expect(pullProgress({ image: 'a', status: 'done' })).toBe(1);
    expect(progressBar(0)).toBe('▱▱▱▱▱▱▱▱▱▱ 0 %');
    expect(progressBar(0.99)).toBe('▰▰▰▰▰▰▰▰▰▰ 99 %');
    expect(pullMessage(trans, pulling('a', 50))).toBe(
      'Pulling image a: ▰▰▰▰▰▱▱▱▱▱ 50 %, 0 of 2 layers, 50 B of 100 B'
    );
  });

  it('keeps one notification per image, updated in place, then success', () => {
    const notifier = new FakeNotifier();
    const pulls = new ImagePullNotifications(notifier, trans);
    pulls.handle(pulling('a', 10));
    pulls.handle(pulling('b', 10));
    pulls.handle(pulling('a', 60));
    expect(notifier.shown.get('n1').progress).toBe(0.6);
    pulls.handle({ image: 'a', status: 'done' });
    expect(notifier.log).toEqual([
      'emit n1 in-progress',
      'emit n2 in-progress',
      'update n1 in-progress',
      'dismiss n1',
      'emit n3 success'
    ]);
    expect(notifier.shown.get('n3').message).toBe('Pulled image a');
    expect([...pulls.active.keys()]).toEqual(['b']);
  });

  it('says why a pull failed, in an error that stays', () => {
    const notifier = new FakeNotifier();
    const pulls = new ImagePullNotifications(notifier, trans);
    pulls.handle(pulling('b', 10));
    pulls.handle({
      image: 'b',
      status: 'failed',
      message: 'registry has no image'
    });
    expect(notifier.shown.has('n1')).toBe(false);
    expect(notifier.shown.get('n2')).toMatchObject({
      type: 'error',
      autoClose: false,
      message: 'Could not pull image b: registry has no image'
    });
    // A failure with no notification yet (the pull failed at once) still shows.
    pulls.handle({ image: 'c', status: 'failed', message: 'no registry' });
    expect(notifier.shown.get('n3').type).toBe('error');
  });
});
