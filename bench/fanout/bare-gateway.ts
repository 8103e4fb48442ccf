// The baseline server of the fan-out bench, started as a child process: a bare `ws` server that
// forwards every message of one Redis sharded pub/sub channel, as is, to every socket connected to
// it. No GraphQL, no graphql-ws protocol, no per-subscriber work: the floor under the gateway's
// fan-out path (Redis -> process -> N sockets) on the same machine, and the memory of a bare
// WebSocket connection.
//
// Env: REDIS_URL, BARE_CHANNEL. Prints {"ready":true,"port":N} on stdout once listening.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { WebSocketServer, type WebSocket } from 'ws';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const channel = process.env.BARE_CHANNEL;
if (!channel) throw new Error('BARE_CHANNEL is required');

const sockets = new Set<WebSocket>();
const server = createServer((_req, res) => res.writeHead(404).end());
const wss = new WebSocketServer({ server, path: '/bare' });
wss.on('connection', (socket) => {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
  socket.on('error', () => sockets.delete(socket));
});

const subscriber = new Redis(redisUrl);
await subscriber.ssubscribe(channel);
subscriber.on('smessage', (_channel: string, message: string) => {
  for (const socket of sockets) socket.send(message);
});

await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
process.stdout.write(`${JSON.stringify({ ready: true, port: (server.address() as AddressInfo).port })}\n`);

const shutdown = () => {
  for (const socket of sockets) socket.terminate();
  wss.close();
  server.close();
  subscriber.disconnect();
  process.exit(0);
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
