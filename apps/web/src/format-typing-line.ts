/**
 * Formats the typing indicator for the users typing in a room, for example "alice is typing…".
 * Returns an empty string for an empty list.
 */
export function formatTypingLine(names: readonly string[]): string {
  const [first, second, third] = names;
  if (first === undefined) {
    return '';
  }
  if (second === undefined) {
    return `${first} is typing…`;
  }
  if (third === undefined) {
    return `${first} and ${second} are typing…`;
  }
  if (names.length === 3) {
    return `${first}, ${second} and ${third} are typing…`;
  }
  return `${names.length} people are typing…`;
}
