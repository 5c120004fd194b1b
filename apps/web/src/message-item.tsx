import type { MessageRow } from './message-row';
import { formatMessageTime } from './format-message-time';

interface MessageItemProps {
  message: MessageRow;
  onRetry: (clientMessageId: string) => void;
  onDiscard: (clientMessageId: string) => void;
}

/**
 * Renders one message: sender, time and content. Content is rendered as a React text node, so markup in a
 * message shows as the characters that were typed.
 */
export function MessageItem({ message, onRetry, onDiscard }: MessageItemProps) {
  const classes = ['message', message.own ? 'message--own' : '', `message--${message.status}`];
  const time = formatMessageTime(message.timestampMs);

  return (
    <li className={classes.join(' ')} data-status={message.status} data-testid="message">
      <div className="message__meta">
        <span className="message__sender">{message.own ? `${message.senderName} (you)` : message.senderName}</span>
        {message.status === 'delivered' ? (
          <time className="message__time" dateTime={new Date(message.timestampMs).toISOString()}>
            {time}
          </time>
        ) : null}
        {message.status === 'pending' ? <span className="message__state">Sending…</span> : null}
      </div>
      <p className="message__content">{message.content}</p>
      {message.status === 'failed' ? (
        <div className="message__failure" role="alert">
          <span>Not sent{message.errorMessage ? `: ${message.errorMessage}` : '.'}</span>
          <button type="button" className="link-button" onClick={() => onRetry(message.clientMessageId)}>
            Retry
          </button>
          <button type="button" className="link-button" onClick={() => onDiscard(message.clientMessageId)}>
            Discard
          </button>
        </div>
      ) : null}
    </li>
  );
}
