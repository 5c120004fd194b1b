import { useOnlineStatus } from './use-online-status';

interface ConnectionBannerProps {
  /** The client's connection state: disconnected, connecting, connected or reconnecting. */
  state: string;
  onReconnect: () => void;
}

/** Tells the user when messages cannot reach the server right now, and that they are kept. */
export function ConnectionBanner({ state, onReconnect }: ConnectionBannerProps) {
  const online = useOnlineStatus();

  let text: string | null = null;
  let showReconnect = false;
  if (!online) {
    text = 'You are offline. Messages you send are kept and go out when the network is back.';
  } else if (state === 'connecting') {
    text = 'Connecting…';
  } else if (state === 'reconnecting') {
    text = 'Connection lost. Reconnecting… Messages you send are kept and go out once connected.';
  } else if (state === 'disconnected') {
    text = 'Disconnected from the server.';
    showReconnect = true;
  }

  return (
    <div className="connection-banner-slot" role="status" aria-live="polite">
      {text !== null ? (
        <div className={`connection-banner connection-banner--${online ? state : 'offline'}`} data-testid="connection-banner">
          <span>{text}</span>
          {showReconnect ? (
            <button type="button" className="link-button" onClick={onReconnect}>
              Reconnect
            </button>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}
