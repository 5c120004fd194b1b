/**
 * Which rooms a user may join, from the `rooms` claim of their token: exact names, or patterns in
 * which `*` matches any run of characters (`team-*`). No claim means every room.
 */
export class RoomAccess {
  static readonly ALL = new RoomAccess(undefined);

  private readonly exact: Set<string>;
  private readonly patterns: RegExp[];
  private readonly unrestricted: boolean;

  constructor(entries: readonly string[] | undefined) {
    this.unrestricted = entries === undefined;
    this.exact = new Set();
    this.patterns = [];
    for (const entry of entries ?? []) {
      if (entry.includes('*')) {
        this.patterns.push(patternToRegExp(entry));
      } else {
        this.exact.add(entry);
      }
    }
  }

  allows(room: string): boolean {
    if (this.unrestricted || this.exact.has(room)) {
      return true;
    }
    return this.patterns.some((pattern) => pattern.test(room));
  }
}

function patternToRegExp(pattern: string): RegExp {
  const escaped = pattern
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${escaped}$`);
}
