import { countCodePoints } from '@confab/protocol';
import { useRef, useState, type FormEvent, type KeyboardEvent } from 'react';

interface ComposerProps {
  room: string;
  /** Text to start with: the draft left in this room before switching away. */
  initialDraft: string;
  onDraftChange: (draft: string) => void;
  maxContentCodePoints: number;
  /** Sends the message. The composer does not wait for the server's acknowledgement. */
  onSend: (content: string) => void;
  onTyping: (typing: boolean) => void;
}

/** Share of the limit after which the remaining length is shown. */
const COUNTER_VISIBLE_RATIO = 0.9;

/** Renders the message input: Enter sends, Shift+Enter starts a new line, and focus stays in the input after a send. */
export function Composer({ room, initialDraft, onDraftChange, maxContentCodePoints, onSend, onTyping }: ComposerProps) {
  const [draft, setDraft] = useState(initialDraft);
  const inputRef = useRef<HTMLTextAreaElement>(null);

  const length = countCodePoints(draft);
  const tooLong = length > maxContentCodePoints;
  const blank = draft.trim() === '';
  const showCounter = length >= maxContentCodePoints * COUNTER_VISIBLE_RATIO;
  const counterId = `composer-counter-${room}`;

  const submit = () => {
    if (blank || tooLong) {
      return;
    }
    onSend(draft);
    setDraft('');
    onDraftChange('');
    inputRef.current?.focus();
  };

  const handleSubmit = (event: FormEvent) => {
    event.preventDefault();
    submit();
  };

  const handleKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    // While an input method composes text, Enter confirms the composition and must not send.
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    }
  };

  const handleChange = (value: string) => {
    setDraft(value);
    onDraftChange(value);
    onTyping(value.trim() !== '');
  };

  return (
    <form className="composer" onSubmit={handleSubmit}>
      <label className="visually-hidden" htmlFor={`composer-${room}`}>
        Message #{room}
      </label>
      <textarea
        id={`composer-${room}`}
        ref={inputRef}
        className="composer__input"
        value={draft}
        rows={1}
        placeholder={`Message #${room}`}
        autoFocus
        aria-describedby={showCounter ? counterId : undefined}
        aria-invalid={tooLong}
        onChange={(event) => handleChange(event.target.value)}
        onKeyDown={handleKeyDown}
      />
      {showCounter ? (
        <span id={counterId} className={tooLong ? 'composer__counter composer__counter--over' : 'composer__counter'}>
          {tooLong ? `${length - maxContentCodePoints} over the limit` : `${maxContentCodePoints - length} left`}
        </span>
      ) : null}
      <button type="submit" className="button" disabled={blank || tooLong}>
        Send
      </button>
    </form>
  );
}
