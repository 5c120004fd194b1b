import type { Logger } from 'pino';

/** The log calls a connection and its parts make. */
export interface EventLog {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** The ids a connection log adds to every line. */
export interface ConnectionIdentity {
  readonly connectionId: string;
  readonly userId: string;
}

/**
 * Logs through the server's logger with the connection's id and user id added to each line.
 * Unlike a pino child logger, it keeps nothing per connection but itself, and it reads the user id
 * at each call, so lines after authentication carry it.
 */
export class ConnectionLog implements EventLog {
  constructor(
    private readonly base: Logger,
    private readonly identity: ConnectionIdentity,
  ) {}

  debug(fields: object, message: string): void {
    if (this.base.isLevelEnabled('debug')) {
      this.base.debug(this.withIdentity(fields), message);
    }
  }

  info(fields: object, message: string): void {
    if (this.base.isLevelEnabled('info')) {
      this.base.info(this.withIdentity(fields), message);
    }
  }

  warn(fields: object, message: string): void {
    this.base.warn(this.withIdentity(fields), message);
  }

  error(fields: object, message: string): void {
    this.base.error(this.withIdentity(fields), message);
  }

  private withIdentity(fields: object): object {
    const { connectionId, userId } = this.identity;
    return userId === '' ? { connectionId, ...fields } : { connectionId, userId, ...fields };
  }
}
