import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startTestApp } from '../utils/test-app.ts';
import { waitFor, within } from '../utils/wait.ts';
import { connectAuthed } from '../utils/ws-client.ts';
import { createRoom, messageBodies, token, watchRoom } from './helpers.ts';

const SEND = 'mutation($roomId: ID!, $body: String!) { sendMessage(roomId: $roomId, body: $body) { id } }';

const MB = 1024 * 1024;
const MESSAGES = 3_000;
const BODY = 'x'.repeat(3_900);

describe('slow consumers', () => {
  // Thousands of real sends through Yoga: seconds alone, tens of seconds beside another busy test file.
  it(
    'cuts a socket that stopped reading off with 1013, memory stays bounded, and the room loses nothing',
    { timeout: 120_000 },
    async () => {
      const app = await startTestApp({
        SLOW_CONSUMER_BYTES: String(MB),
        MESSAGE_RATE: '1000000',
        MAX_CONNECTIONS: '100',
        // The sender's socket carries thousands of operations; the limit under test is the reader's.
        FRAME_RATE: '1000000',
      });
      const roomId = await createRoom(app, 'sender');
      const reader = await watchRoom(app, 'reader', roomId);
      const stalled = await watchRoom(app, 'stalled', roomId);
      // Stop reading at the TCP level: the kernel buffers fill, then the server's own send buffer grows.
      const tcp = (stalled.socket as unknown as { _socket: Socket })._socket;
      tcp.pause();

      globalThis.gc?.();
      const before = process.memoryUsage().rss;
      let peak = before;
      // Sent over one WebSocket (cheaper than thousands of HTTP requests), at most 32 in flight. Answers are
      // matched by id here: the raw test client's scans of everything received would make this quadratic.
      const sender = await connectAuthed(app.wsUrl, await token('sender'));
      const pending = new Map<string, (payload: { errors?: unknown }) => void>();
      sender.socket.on('message', (data) => {
        const message = JSON.parse(String(data)) as { id?: string; type: string; payload?: { errors?: unknown } };
        if (message.type === 'next' && message.id) pending.get(message.id)?.(message.payload ?? {});
      });
      let next = 0;
      const sendAll = async () => {
        while (next < MESSAGES) {
          const i = next++;
          const answered = new Promise<{ errors?: unknown }>((resolve) => pending.set(`m${i}`, resolve));
          sender.subscribe(`m${i}`, SEND, { roomId, body: `${i} ${BODY}` });
          const result = await answered;
          pending.delete(`m${i}`);
          if (result.errors) throw new Error(`send ${i} failed: ${JSON.stringify(result.errors)}`);
          if (i % 100 === 0) peak = Math.max(peak, process.memoryUsage().rss);
        }
      };
      await within(Promise.all(Array.from({ length: 32 }, sendAll)), 100_000, `${MESSAGES} sends`);

      const scrape = async () =>
        (await (await fetch(`${app.url}/metrics`)).text()).match(/^chat_ws_slow_consumer_closes_total (\d+)$/m)?.[1];
      await waitFor(async () => (await scrape()) === '1', 10_000, 'the slow consumer to be cut off');

      // The reader that kept reading got every message, once, in send order per sender (bodies carry the index).
      await waitFor(() => messageBodies(reader).length >= MESSAGES, 30_000, `all ${MESSAGES} messages at the reader`);
      const indexes = messageBodies(reader).map((body) => Number(body.split(' ')[0]));
      expect(new Set(indexes).size).toBe(MESSAGES);
      expect(indexes.length).toBe(MESSAGES);
      expect(reader.socket.readyState).toBe(reader.socket.OPEN);

      const after = process.memoryUsage().rss;
      peak = Math.max(peak, after);
      console.log(
        `slow consumer: rss before ${(before / MB).toFixed(1)} MB, peak ${(peak / MB).toFixed(1)} MB, after ${(after / MB).toFixed(1)} MB ` +
          `(growth ${((peak - before) / MB).toFixed(1)} MB) for ${MESSAGES} messages of ${BODY.length + 5} chars; SLOW_CONSUMER_BYTES 1 MB`,
      );
      // Everything the stalled socket was sent is ~12 MB; the bound is about the process, generously.
      expect(peak - before).toBeLessThan(400 * MB);

      // Reading again, the stalled client drains what was in flight and then finds the close frame: 1013, retry.
      tcp.resume();
      const closed = await within(stalled.closed, 20_000, 'the 1013 close frame');
      expect(closed.code).toBe(1013);
      const received = messageBodies(stalled).length;
      expect(received).toBeLessThan(MESSAGES);
      console.log(`slow consumer: stalled client had received ${received} of ${MESSAGES} messages before 1013`);
    },
  );
});
