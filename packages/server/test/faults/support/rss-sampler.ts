import { readFileSync } from 'node:fs';

const KIB = 1024;

/** Returns the resident set size of a process from /proc (Linux), or undefined once it has exited. */
export function readRssBytes(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
    return match === null ? undefined : Number(match[1]) * KIB;
  } catch {
    return undefined;
  }
}

/** Samples a process's resident set size at a fixed interval and keeps the peak. */
export class RssSampler {
  peakBytes = 0;
  samples = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly pid: number,
    intervalMs = 100,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private sample(): void {
    const bytes = readRssBytes(this.pid);
    if (bytes !== undefined) {
      this.samples++;
      this.peakBytes = Math.max(this.peakBytes, bytes);
    }
  }
}
