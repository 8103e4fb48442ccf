import WebSocket from 'ws';

/** A graphql-ws message as the server sends it. */
export interface ServerMessage {
  type: string;
  id?: string;
  payload?: unknown;
}

/**
 * A graphql-transport-ws connection driven by hand, so that a test can send what no client library
 * would: any frame, any payload.
 */
export class WsSession {
  private readonly inbox: ServerMessage[] = [];
  private readonly waiters = new Set<() => void>();
  /** How the server closed the socket, once it has. */
  closed?: { code: number; reason: string };
  /** Whether the server answered connection_init with connection_ack. */
  acknowledged = false;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      let message: ServerMessage;
      try {
        message = JSON.parse(String(data)) as ServerMessage;
      } catch {
        message = { type: 'unparseable', payload: String(data) };
      }
      this.inbox.push(message);
      this.wake();
    });
    socket.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
    socket.on('error', () => {});
  }

  /** Opens a socket and sends connection_init with `payload` (raw when it is a string); resolves once acknowledged or closed. */
  static async open(url: string, payload: unknown): Promise<WsSession> {
    const socket = new WebSocket(url, 'graphql-transport-ws');
    const session = new WsSession(socket);
    await new Promise<void>((resolve) => {
      socket.once('open', resolve);
      socket.once('close', () => resolve());
    });
    if (session.closed) return session;
    socket.send(typeof payload === 'string' ? payload : JSON.stringify({ type: 'connection_init', payload }));
    session.acknowledged = typeof (await session.next((m) => m.type === 'connection_ack', 10_000)) === 'object';
    return session;
  }

  send(frame: string | object): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The first message matching `wanted`, 'closed' if the socket closes first, 'timeout' after `ms`. */
  next(wanted: (message: ServerMessage) => boolean, ms: number): Promise<ServerMessage | 'closed' | 'timeout'> {
    return new Promise((resolve) => {
      const check = () => {
        const at = this.inbox.findIndex(wanted);
        if (at !== -1) return finish(this.inbox.splice(at, 1)[0]!);
        if (this.closed) return finish('closed');
      };
      const finish = (result: ServerMessage | 'closed' | 'timeout') => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(result);
      };
      const timer = setTimeout(() => finish('timeout'), ms);
      this.waiters.add(check);
      check();
    });
  }

  close(): void {
    this.socket.terminate();
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
