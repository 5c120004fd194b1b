import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Kernel clock ticks per second, the unit of utime and stime in /proc/<pid>/stat. */
const CLOCK_TICKS_PER_SECOND = readClockTicks();

/** CPU time and memory of one process, read from /proc. */
export interface ProcessSample {
  /** User plus system CPU time since the process started, in microseconds (10 ms resolution). */
  cpuMicros: number;
  /** Resident set size now, in bytes. */
  rssBytes: number;
  /** Highest resident set size so far, in bytes. */
  peakRssBytes: number;
  /**
   * Time the main thread (the event loop) spent runnable but waiting for a core, in microseconds,
   * from /proc/<pid>/schedstat; 0 where the kernel does not report it. A large share of a window
   * means other processes, or the process's own helper threads, kept the core busy.
   */
  runQueueWaitMicros: number;
}

/** Reads /proc/<pid>/stat and /proc/<pid>/status; throws when the process is gone. */
export function sampleProcess(pid: number): ProcessSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name in field 2 is in parentheses and may contain spaces, so fields are counted
  // from the last ')'. After it come field 3 (state) onwards; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);

  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return {
    cpuMicros: (ticks / CLOCK_TICKS_PER_SECOND) * 1e6,
    rssBytes: readStatusKilobytes(status, 'VmRSS') * 1024,
    peakRssBytes: readStatusKilobytes(status, 'VmHWM') * 1024,
    runQueueWaitMicros: readRunQueueWaitMicros(pid),
  };
}

/** Reads the second field of /proc/<pid>/schedstat (nanoseconds waiting on a run queue). */
export function readRunQueueWaitMicros(pid: number | 'self'): number {
  try {
    const fields = readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(' ');
    return Number(fields[1] ?? 0) / 1000;
  } catch {
    return 0;
  }
}

/** Sums samples of the processes of one target, such as the two nodes of a cluster. */
export function sampleProcesses(pids: number[]): ProcessSample {
  const total: ProcessSample = { cpuMicros: 0, rssBytes: 0, peakRssBytes: 0, runQueueWaitMicros: 0 };
  for (const pid of pids) {
    const sample = sampleProcess(pid);
    total.cpuMicros += sample.cpuMicros;
    total.rssBytes += sample.rssBytes;
    total.peakRssBytes += sample.peakRssBytes;
    total.runQueueWaitMicros += sample.runQueueWaitMicros;
  }
  return total;
}

function readStatusKilobytes(status: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return match === null ? 0 : Number(match[1]);
}

function readClockTicks(): number {
  try {
    const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(value) && value > 0 ? value : 100;
  } catch {
    return 100;
  }
}
