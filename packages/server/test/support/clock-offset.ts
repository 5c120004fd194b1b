// Loaded with `node --import` into a test node to stand for a host whose clock is off: every
// reading of the wall clock (Date.now and new Date()) is shifted by CONFAB_TEST_CLOCK_OFFSET_MS.
// Timers and performance.now() keep running at the real rate, as they do on such a host.

const offsetMs = Number(process.env['CONFAB_TEST_CLOCK_OFFSET_MS'] ?? '0');
if (!Number.isFinite(offsetMs)) {
  throw new RangeError(`invalid CONFAB_TEST_CLOCK_OFFSET_MS ${JSON.stringify(process.env['CONFAB_TEST_CLOCK_OFFSET_MS'])}: use a number of milliseconds`);
}

const RealDate = Date;
const realNow = RealDate.now.bind(RealDate);

class ShiftedDate extends RealDate {
  constructor(...args: unknown[]) {
    if (args.length === 0) {
      super(realNow() + offsetMs);
    } else {
      super(...(args as [string | number | Date]));
    }
  }

  static override now(): number {
    return realNow() + offsetMs;
  }
}

globalThis.Date = ShiftedDate as DateConstructor;
