/**
 * The set of rooms a user may join, from the `rooms` claim of their token: exact names, or patterns in
 * which `*` matches any run of characters (`team-*`). No claim means every room.
 */
export class RoomAccess {
  static readonly ALL = new RoomAccess(undefined);

  /** The access a `rooms` claim grants; tokens without the claim share one unrestricted instance. */
  static fromClaim(entries: readonly string[] | undefined): RoomAccess {
    return entries === undefined ? RoomAccess.ALL : new RoomAccess(entries);
  }

  private readonly exact: Set<string>;
  private readonly patterns: string[];
  private readonly unrestricted: boolean;

  constructor(entries: readonly string[] | undefined) {
    this.unrestricted = entries === undefined;
    this.exact = new Set();
    this.patterns = [];
    for (const entry of entries ?? []) {
      if (entry.includes('*')) {
        this.patterns.push(entry);
      } else {
        this.exact.add(entry);
      }
    }
  }

  allows(room: string): boolean {
    if (this.unrestricted || this.exact.has(room)) {
      return true;
    }
    return this.patterns.some((pattern) => matchesWildcard(pattern, room));
  }
}

/**
 * Returns whether `text` matches `pattern`, in which `*` matches any run of characters. It
 * backtracks only to the last star, so it takes at most pattern × text steps. A regular expression
 * such as `^.*a.*a.*b$` can backtrack exponentially and stall the event loop on many stars.
 */
function matchesWildcard(pattern: string, text: string): boolean {
  let patternIndex = 0;
  let textIndex = 0;
  let lastStarIndex = -1;
  // Where in the text the last star's run ends; each backtrack lets that star take one more character.
  let starRunEnd = 0;

  while (textIndex < text.length) {
    if (pattern[patternIndex] === '*') {
      lastStarIndex = patternIndex;
      starRunEnd = textIndex;
      patternIndex++;
    } else if (patternIndex < pattern.length && pattern[patternIndex] === text[textIndex]) {
      patternIndex++;
      textIndex++;
    } else if (lastStarIndex >= 0) {
      patternIndex = lastStarIndex + 1;
      starRunEnd++;
      textIndex = starRunEnd;
    } else {
      return false;
    }
  }

  while (pattern[patternIndex] === '*') {
    patternIndex++;
  }
  return patternIndex === pattern.length;
}
