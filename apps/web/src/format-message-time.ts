const TIME_FORMAT = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const DATE_TIME_FORMAT = new Intl.DateTimeFormat(undefined, {
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});

/**
 * Formats a message timestamp (milliseconds since the Unix epoch) for the message list: the time
 * alone for messages of the current day, the date and time for older ones.
 */
export function formatMessageTime(timestampMs: number, now: Date = new Date()): string {
  const date = new Date(timestampMs);
  const sameDay =
    date.getFullYear() === now.getFullYear() &&
    date.getMonth() === now.getMonth() &&
    date.getDate() === now.getDate();
  return sameDay ? TIME_FORMAT.format(date) : DATE_TIME_FORMAT.format(date);
}
