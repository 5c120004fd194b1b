import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { TypingThrottle } from '../src/typing-throttle.js';

type Step =
  | { at: number; keystroke: true }
  | { at: number; stop: true }
  | { at: number; sent: true }
  | { at: number; idleCheck: true };

function run(steps: Step[]): string[] {
  const throttle = new TypingThrottle({ renewIntervalMs: 3000, idleMs: 2000 });
  const frames: string[] = [];
  for (const step of steps) {
    let signal: string | null = null;
    if ('keystroke' in step) {
      signal = throttle.keystroke(step.at);
    } else if ('stop' in step) {
      signal = throttle.stop();
    } else if ('sent' in step) {
      throttle.messageSent();
    } else {
      signal = throttle.checkIdle(step.at);
    }
    if (signal !== null) {
      frames.push(`${signal}@${step.at}`);
    }
  }
  return frames;
}

describe('TypingThrottle', () => {
  test('keystroke stream', () => {
    const cases: Array<{ name: string; steps: Step[]; frames: string[] }> = [
      {
        name: 'burst sends one start',
        steps: [0, 100, 200, 900, 2900].map((at) => ({ at, keystroke: true as const })),
        frames: ['start@0'],
      },
      {
        name: 'long stream renews',
        steps: [0, 1000, 2000, 3000, 4000, 5000, 6000, 7000].map((at) => ({ at, keystroke: true as const })),
        frames: ['start@0', 'start@3000', 'start@6000'],
      },
      {
        name: 'explicit stop once',
        steps: [
          { at: 0, keystroke: true },
          { at: 500, stop: true },
          { at: 600, stop: true },
        ],
        frames: ['start@0', 'stop@500'],
      },
      {
        name: 'stop without start is silent',
        steps: [{ at: 0, stop: true }],
        frames: [],
      },
      {
        name: 'idle stop after pause',
        steps: [
          { at: 0, keystroke: true },
          { at: 1000, keystroke: true },
          { at: 2500, idleCheck: true },
          { at: 3000, idleCheck: true },
          { at: 3100, idleCheck: true },
        ],
        frames: ['start@0', 'stop@3000'],
      },
      {
        name: 'send ends typing silently',
        steps: [
          { at: 0, keystroke: true },
          { at: 100, sent: true },
          { at: 200, stop: true },
          { at: 300, keystroke: true },
        ],
        frames: ['start@0', 'start@300'],
      },
      {
        name: 'keystroke after stop starts again',
        steps: [
          { at: 0, keystroke: true },
          { at: 100, stop: true },
          { at: 200, keystroke: true },
        ],
        frames: ['start@0', 'stop@100', 'start@200'],
      },
    ];

    for (const testCase of cases) {
      assert.deepEqual(run(testCase.steps), testCase.frames, testCase.name);
    }
  });

  test('idle deadline follows last keystroke', () => {
    const throttle = new TypingThrottle({ renewIntervalMs: 3000, idleMs: 2000 });
    assert.equal(throttle.idleDeadlineMs(), null);
    throttle.keystroke(100);
    throttle.keystroke(700);
    assert.equal(throttle.idleDeadlineMs(), 2700);
    throttle.stop();
    assert.equal(throttle.idleDeadlineMs(), null);
  });

  test('reset forgets the start', () => {
    const throttle = new TypingThrottle({ renewIntervalMs: 3000, idleMs: 2000 });
    throttle.keystroke(0);
    throttle.reset();
    assert.equal(throttle.typing, false);
    assert.equal(throttle.keystroke(10), 'start');
  });

  test('invalid intervals throw', () => {
    assert.throws(() => new TypingThrottle({ renewIntervalMs: 0, idleMs: 1000 }), RangeError);
    assert.throws(() => new TypingThrottle({ renewIntervalMs: 1000, idleMs: -1 }), RangeError);
  });
});
