/**
 * Reads one unlabelled counter or gauge from a server's `/metrics` page (Prometheus text format).
 * Returns 0 when the metric has no sample yet.
 */
export async function readMetric(httpUrl: string, name: string): Promise<number> {
  const response = await fetch(`${httpUrl}/metrics`);
  const text = await response.text();
  if (!response.ok) {
    throw new Error(`GET ${httpUrl}/metrics failed with HTTP ${response.status}: ${text.slice(0, 200)}`);
  }
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.slice(name.length + 1));
}
