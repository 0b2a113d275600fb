import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src-main/services/events.ts';
import { TaskManager } from '../../src-main/services/tasks/task-manager.ts';
import type { TaskSnapshot } from '../../src-main/shared/types.ts';

describe('task manager', () => {
  it('pushes serialisable snapshots from queued to succeeded with the result', async () => {
    const events = new EventBus();
    const seen: TaskSnapshot[] = [];
    events.on('task', (t) => seen.push(t));
    const tasks = new TaskManager(events);
    const snap = tasks.start('demo', 'Count', async (ctx) => {
      for (let i = 1; i <= 3; i++) ctx.progress(i, 3, 'images');
      return { counted: 3 };
    });
    const done = await tasks.wait(snap.id);
    expect(done).toMatchObject({ state: 'succeeded', result: { counted: 3 }, progress: { done: 3, total: 3, unit: 'images' } });
    expect(seen[0]!.state).toBe('queued');
    expect(seen.at(-1)!.state).toBe('succeeded');
    expect(() => JSON.stringify(seen)).not.toThrow();
  });

  it('cancels a running task at its next check and keeps failures with their error name', async () => {
    const tasks = new TaskManager(new EventBus());
    const running = tasks.start('loop', 'Loop', async (ctx) => {
      for (;;) {
        ctx.throwIfCancelled();
        await new Promise((r) => setTimeout(r, 5));
      }
    });
    setTimeout(() => tasks.cancel(running.id), 30);
    expect((await tasks.wait(running.id)).state).toBe('cancelled');

    const failing = tasks.start('bad', 'Bad', async () => {
      const e = new Error('GPU ran out of memory');
      e.name = 'OutOfMemoryError';
      throw e;
    });
    expect(await tasks.wait(failing.id)).toMatchObject({ state: 'failed', error: { name: 'OutOfMemoryError' } });
  });

  it('runs tasks of one queue one after another', async () => {
    const tasks = new TaskManager(new EventBus());
    const order: string[] = [];
    const job = (name: string) => async () => {
      order.push(`${name}:start`);
      await new Promise((r) => setTimeout(r, 20));
      order.push(`${name}:end`);
    };
    const a = tasks.start('t', 'A', job('a'), { queue: 'training' });
    const b = tasks.start('t', 'B', job('b'), { queue: 'training' });
    expect(tasks.get(b.id).state).toBe('queued');
    await tasks.wait(b.id);
    await tasks.wait(a.id);
    expect(order).toEqual(['a:start', 'a:end', 'b:start', 'b:end']);
  });

  it('pauses and resumes a task that supports it; cancel still works while paused', async () => {
    const events = new EventBus();
    const states: string[] = [];
    events.on('task', (t) => states.push(t.state));
    const tasks = new TaskManager(events);
    const changes: boolean[] = [];
    let step = 0;
    const snap = tasks.start('training', 'Train', async (ctx) => {
      let resume: (() => void) | null = null;
      ctx.onPauseChange((p) => {
        changes.push(p);
        if (!p) resume?.();
      });
      for (;;) {
        if (ctx.paused && !ctx.signal.aborted)
          await new Promise<void>((r) => {
            resume = r;
            ctx.signal.addEventListener('abort', () => r(), { once: true });
          });
        ctx.throwIfCancelled();
        step++;
        await new Promise((r) => setTimeout(r, 2));
      }
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(tasks.pause(snap.id)).toMatchObject({ state: 'paused', progress: { etaSeconds: null } });
    expect(tasks.pause(snap.id).state).toBe('paused'); // idempotent
    await new Promise((r) => setTimeout(r, 10));
    const frozen = step;
    await new Promise((r) => setTimeout(r, 30));
    expect(step).toBe(frozen);
    expect(tasks.resume(snap.id).state).toBe('running');
    await new Promise((r) => setTimeout(r, 30));
    expect(step).toBeGreaterThan(frozen);
    tasks.pause(snap.id);
    tasks.cancel(snap.id);
    expect(() => tasks.resume(snap.id)).toThrow(expect.objectContaining({ name: 'ConflictError' }));
    expect((await tasks.wait(snap.id)).state).toBe('cancelled');
    expect(changes).toEqual([true, false, true]);
    expect(states.indexOf('paused')).toBeGreaterThan(states.indexOf('running'));
    expect(states.at(-1)).toBe('cancelled');
  });

  it('refuses to pause tasks that do not support it, and queued or finished ones', async () => {
    const tasks = new TaskManager(new EventBus());
    const plain = tasks.start('import', 'Import', async (ctx) => {
      while (!ctx.signal.aborted) await new Promise((r) => setTimeout(r, 2));
    });
    await new Promise((r) => setTimeout(r, 5));
    expect(() => tasks.pause(plain.id)).toThrow(
      expect.objectContaining({ name: 'ValidationError', message: expect.stringMatching(/cannot be paused/) }),
    );
    tasks.cancel(plain.id);
    await tasks.wait(plain.id);
    const a = tasks.start('t', 'A', async (ctx) => void ctx.onPauseChange(() => undefined), { queue: 'q' });
    const b = tasks.start('t', 'B', async (ctx) => void ctx.onPauseChange(() => undefined), { queue: 'q' });
    expect(() => tasks.pause(b.id)).toThrow(/cannot be paused/);
    await tasks.wait(b.id);
    expect(() => tasks.pause(a.id)).toThrow(/cannot be paused/);
    expect(() => tasks.pause('nope')).toThrow(expect.objectContaining({ name: 'NotFoundError' }));
  });
});
