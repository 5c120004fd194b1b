import { MAX_DISPLAY_NAME_CODE_POINTS, countCodePoints, hasControlCharacter } from '@confab/protocol';
import { useState, type FormEvent } from 'react';

import type { Credentials } from './saved-session';

interface SignInScreenProps {
  initialMode: Mode;
  initialGuestName: string;
  /** Reason the previous sign-in failed, shown above the form. */
  error: string | null;
  onSignIn: (credentials: Credentials) => void;
}

type Mode = Credentials['kind'];

/** Renders the sign-in form: a guest display name, or a pasted JWT. */
export function SignInScreen({ initialMode, initialGuestName, error, onSignIn }: SignInScreenProps) {
  const [mode, setMode] = useState<Mode>(initialMode);
  const [guestName, setGuestName] = useState(initialGuestName);
  const [token, setToken] = useState('');
  const [fieldError, setFieldError] = useState<string | null>(null);

  const handleSubmit = (event: FormEvent) => {
    event.preventDefault();

    if (mode === 'guest') {
      const name = guestName.trim();
      const problem = validateGuestName(name);
      setFieldError(problem);
      if (problem === null) {
        onSignIn({ kind: 'guest', name });
      }
      return;
    }

    const trimmed = token.trim();
    if (trimmed === '') {
      setFieldError('Paste the token your server operator gave you.');
      return;
    }
    setFieldError(null);
    onSignIn({ kind: 'token', token: trimmed });
  };

  const shownError = fieldError ?? error;

  return (
    <main className="sign-in">
      <form className="sign-in__card" onSubmit={handleSubmit} noValidate aria-labelledby="sign-in-heading">
        <h1 id="sign-in-heading" className="sign-in__title">
          Confab
        </h1>
        <p className="sign-in__subtitle">Sign in to start chatting.</p>

        <fieldset className="sign-in__modes">
          <legend className="visually-hidden">Sign in with</legend>
          <label className={mode === 'guest' ? 'segment segment--active' : 'segment'}>
            <input type="radio" name="mode" value="guest" checked={mode === 'guest'} onChange={() => setMode('guest')} />
            Guest name
          </label>
          <label className={mode === 'token' ? 'segment segment--active' : 'segment'}>
            <input type="radio" name="mode" value="token" checked={mode === 'token'} onChange={() => setMode('token')} />
            Token
          </label>
        </fieldset>

        {mode === 'guest' ? (
          <div className="field">
            <label htmlFor="guest-name">Display name</label>
            <input
              id="guest-name"
              className="input"
              value={guestName}
              autoFocus
              autoComplete="nickname"
              maxLength={MAX_DISPLAY_NAME_CODE_POINTS * 2}
              aria-invalid={shownError !== null}
              aria-describedby={shownError !== null ? 'sign-in-error' : undefined}
              onChange={(event) => setGuestName(event.target.value)}
            />
          </div>
        ) : (
          <div className="field">
            <label htmlFor="token">Token (JWT)</label>
            <textarea
              id="token"
              className="input input--token"
              value={token}
              autoFocus
              spellCheck={false}
              autoComplete="off"
              rows={4}
              aria-invalid={shownError !== null}
              aria-describedby={shownError !== null ? 'sign-in-error' : undefined}
              onChange={(event) => setToken(event.target.value)}
            />
          </div>
        )}

        {shownError !== null ? (
          <p id="sign-in-error" className="field-error" role="alert">
            {shownError}
          </p>
        ) : null}

        <button type="submit" className="button button--wide">
          Sign in
        </button>
      </form>
    </main>
  );
}

function validateGuestName(name: string): string | null {
  if (name === '') {
    return 'Enter a display name.';
  }
  if (countCodePoints(name) > MAX_DISPLAY_NAME_CODE_POINTS) {
    return `Display names are at most ${MAX_DISPLAY_NAME_CODE_POINTS} characters.`;
  }
  if (hasControlCharacter(name)) {
    return 'Display names cannot contain control characters.';
  }
  return null;
}
