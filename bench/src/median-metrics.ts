import type { Metrics } from './workloads/workload.js';

/** Returns the median of the numbers, ignoring nulls, or null when there are none. */
export function median(values: Array<number | null | undefined>): number | null {
  const numbers = values.filter((value): value is number => typeof value === 'number' && Number.isFinite(value));
  if (numbers.length === 0) {
    return null;
  }
  numbers.sort((left, right) => left - right);
  const middle = Math.floor(numbers.length / 2);
  return numbers.length % 2 === 1 ? (numbers[middle] ?? null) : ((numbers[middle - 1] ?? 0) + (numbers[middle] ?? 0)) / 2;
}

/**
 * Combines repetitions: the median of every number, a flag when any repetition raised it, and the
 * notes and steps of the repetition whose throughput is the median.
 */
export function medianMetrics(repetitions: Metrics[]): Metrics {
  const first = repetitions[0];
  if (first === undefined) {
    throw new Error('medianMetrics needs at least one repetition');
  }
  if (repetitions.length === 1) {
    return first;
  }

  const details: Metrics['details'] = {};
  const keys = new Set(repetitions.flatMap((metrics) => Object.keys(metrics.details)));
  for (const key of keys) {
    const values = repetitions.map((metrics) => metrics.details[key]);
    details[key] = values.every((value) => typeof value === 'number' || value === null)
      ? median(values as Array<number | null>)
      : (values.find((value) => value !== null && value !== undefined) ?? null);
  }

  const perSecond = median(repetitions.map((metrics) => metrics.perSecond));
  const representative =
    repetitions.find((metrics) => metrics.perSecond === perSecond) ??
    [...repetitions].sort((left, right) => (left.perSecond ?? 0) - (right.perSecond ?? 0))[Math.floor(repetitions.length / 2)] ??
    first;

  return {
    perSecond,
    cpuMicrosPerUnit: median(repetitions.map((metrics) => metrics.cpuMicrosPerUnit)),
    p50Ms: median(repetitions.map((metrics) => metrics.p50Ms)),
    p99Ms: median(repetitions.map((metrics) => metrics.p99Ms)),
    rssBytes: median(repetitions.map((metrics) => metrics.rssBytes)),
    errors: median(repetitions.map((metrics) => metrics.errors)) ?? 0,
    loadGeneratorBound: repetitions.some((metrics) => metrics.loadGeneratorBound),
    serverSaturated: repetitions.some((metrics) => metrics.serverSaturated),
    contended: repetitions.some((metrics) => metrics.contended),
    notes: representativeNotes(representative, repetitions),
    details,
    ...(representative.steps === undefined ? {} : { steps: representative.steps }),
  };
}

/** Returns the notes of the median repetition, plus how many repetitions were contended. */
function representativeNotes(representative: Metrics, repetitions: Metrics[]): string[] {
  const contended = repetitions.filter((metrics) => metrics.contended).length;
  const notes = [...representative.notes];
  if (contended > 0) {
    notes.push(`${contended} of ${repetitions.length} repetitions contended`);
  }
  return notes;
}
