import { formatTypingLine } from './format-typing-line';

/** Shows the "alice is typing…" line under the message list. The line keeps its height when empty. */
export function TypingLine({ names }: { names: readonly string[] }) {
  return (
    <p className="typing-line" aria-live="polite" data-testid="typing-line">
      {formatTypingLine(names)}
    </p>
  );
}
