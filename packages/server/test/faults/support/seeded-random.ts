/**
 * Returns a seeded pseudo-random generator of floats in [0, 1) (mulberry32), so that a failing run
 * can be replayed with the seed it printed.
 */
export function createSeededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Returns the seed from `CONFAB_FAULT_SEED` when set (to replay a failure), else a fresh one. */
export function faultSeed(): number {
  const fromEnvironment = process.env['CONFAB_FAULT_SEED'];
  if (fromEnvironment !== undefined && fromEnvironment !== '') {
    const seed = Number(fromEnvironment);
    if (!Number.isInteger(seed)) {
      throw new Error(`CONFAB_FAULT_SEED must be an integer, got "${fromEnvironment}"`);
    }
    return seed;
  }
  return Math.floor(Math.random() * 2 ** 31);
}
