import { WebSocket, type ServerOptions } from 'ws';

/** Close code for a client that sends faster than allowed; graphql-ws clients do not retry it on their own. */
export const CLOSE_TOO_MANY_MESSAGES = 4429;

/**
 * A token bucket: up to `perSecond` messages at once, refilled at `perSecond` a second. `now` is
 * a monotonic clock in milliseconds.
 */
export function messageMeter(perSecond: number, now: () => number = () => performance.now()): { take(): boolean } {
  let tokens = perSecond;
  let refilledAt = now();
  return {
    take() {
      const at = now();
      tokens = Math.min(perSecond, tokens + ((at - refilledAt) / 1000) * perSecond);
      refilledAt = at;
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
  };
}

/** graphql-ws' close code for a message that breaks the protocol. */
const CLOSE_BAD_REQUEST = 4400;
const SERVER_ONLY_TYPES = new Set(['connection_ack', 'next', 'error']);

/**
 * Whether a client sent a message only a server may send. graphql-ws takes one for a fault of its
 * own and closes with 4500 (internal error); it is the client's, and 4400 says so.
 */
function isServerOnlyMessage(data: unknown): boolean {
  try {
    const message: unknown = JSON.parse(String(data));
    return typeof message === 'object' && message !== null && SERVER_ONLY_TYPES.has((message as { type?: unknown }).type as string);
  } catch {
    return false; // not JSON: graphql-ws refuses it with 4400 itself
  }
}

// ws names every error of the peer's frames WS_ERR_*: WS_ERR_UNSUPPORTED_MESSAGE_LENGTH, WS_ERR_INVALID_UTF8, ...
const isProtocolError = (error: unknown): boolean => typeof (error as { code?: unknown })?.code === 'string' && (error as { code: string }).code.startsWith('WS_ERR_');

/**
 * The server's side of each connection, as ws builds it for graphql-ws. Its messages pass a meter
 * before anyone hears of them: past the rate the socket is closed with 4429, and neither that
 * message nor any later one reaches graphql-ws, since ws keeps reading a closing socket for up to
 * 30 s and a flooding client need not send its close frame.
 */
function limitedWebSocket(perSecond: number): typeof WebSocket {
  return class LimitedWebSocket extends WebSocket {
    readonly #meter = messageMeter(perSecond);
    #flooded = false;

    override emit(event: string | symbol, ...args: unknown[]): boolean {
      if (event === 'message' && (this.#flooded || !this.#meter.take())) {
        if (!this.#flooded) {
          this.#flooded = true;
          this.close(CLOSE_TOO_MANY_MESSAGES, 'Too many messages');
        }
        return false;
      }
      if (event === 'message' && isServerOnlyMessage(args[0])) {
        this.close(CLOSE_BAD_REQUEST, 'A client may not send that message type');
        return false;
      }
      // A client that breaks the protocol (a message over maxPayload, invalid UTF-8) has already
      // been closed by ws with the matching code (1009, 1007); graphql-ws would print it to the
      // console as an internal error of ours.
      if (event === 'error' && isProtocolError(args[0])) return false;
      return super.emit(event, ...args);
    }
  };
}

/** The WebSocket server's transport limits: the largest message, and messages per second per connection. */
export function webSocketLimits(limits: { maxPayloadBytes: number; maxMessagesPerSecond: number }): Pick<ServerOptions, 'maxPayload' | 'WebSocket'> {
  return { maxPayload: limits.maxPayloadBytes, WebSocket: limitedWebSocket(limits.maxMessagesPerSecond) };
}
