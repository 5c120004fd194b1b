/**
 * Microseconds on the system's monotonic clock. `process.hrtime` reads CLOCK_MONOTONIC, which every
 * process on the machine shares, so a timestamp taken in one load worker can be compared with one
 * taken in another.
 */
export function nowMicros(): number {
  const [seconds, nanoseconds] = process.hrtime();
  return seconds * 1e6 + nanoseconds / 1e3;
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** Resolves when the monotonic clock reaches `targetMicros`. */
export async function sleepUntilMicros(targetMicros: number): Promise<void> {
  const remainingMs = (targetMicros - nowMicros()) / 1000;
  if (remainingMs > 0) {
    await sleep(remainingMs);
  }
}
