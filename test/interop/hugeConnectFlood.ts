// A child process of brokerLimits.test.ts (so that its own sockets and buffers do not count in the
// server's RSS): opens `count` raw TCP sockets to the broker at once, each starting a CONNECT that
// declares a 256 MB remaining length and then trickling zeros into it, up to `perSocket` bytes,
// until the server closes it. Prints one JSON line: how many connected, how many the server closed,
// how long the last close took.
import { connect, type Socket } from 'node:net';

const [port, count, perSocket] = process.argv.slice(2).map(Number) as [number, number, number];
const CHUNK = 512;
const TRICKLE_MS = 20;
const CONNECT_HUGE = Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]);

const startedAt = Date.now();
let connected = 0;
let closedByServer = 0;
let finished = 0;
let lastCloseMs = 0;

function attack(): void {
  const socket: Socket = connect(port, '127.0.0.1');
  let written = 0;
  let open = false;
  let timer: NodeJS.Timeout | undefined;
  socket.on('connect', () => {
    connected++;
    open = true;
    socket.write(CONNECT_HUGE);
    timer = setInterval(() => {
      if (written >= perSocket) return void clearInterval(timer);
      socket.write(Buffer.alloc(CHUNK));
      written += CHUNK;
    }, TRICKLE_MS);
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    clearInterval(timer);
    if (open) closedByServer++;
    lastCloseMs = Date.now() - startedAt;
    if (++finished === count) report();
  });
}

function report(): void {
  process.stdout.write(`${JSON.stringify({ connected, closedByServer, lastCloseMs })}\n`);
  process.exit(0);
}

for (let i = 0; i < count; i++) attack();
// The sockets the server leaves open are reported as not closed.
setTimeout(report, 30_000).unref();
