// The stream aedes reads a connection through: the socket's bytes as they are (the same buffers,
// not copies), each chunk first shown to the packet size guard, which ends the connection at the
// first packet over its limit. Reading follows aedes' pace (the socket is paused while aedes has
// not taken what was passed on), so what one connection holds stays bounded by the largest packet
// allowed plus one chunk. Writes go straight to the socket, corked together as aedes wrote them.
//
// The connection is handed to aedes only once its first bytes pass the guard: an aedes client
// costs some 10 KB, and a thousand sockets opened at once that send nothing, or a CONNECT declaring
// a huge length, would otherwise hold a thousand of them until refused.
import { Duplex } from 'node:stream';
import { createPacketSizeGuard, type Oversize, type PacketLimits } from './packetSizeGuard.ts';

/** A connection ended because it sent more than the limits allow. */
export class PacketTooLarge extends Error {
  constructor(readonly oversize: Oversize) {
    super(
      oversize.kind === 'packet'
        ? `packet of ${oversize.bytes}+ bytes over the limit of ${oversize.limit}${oversize.authenticated ? '' : ' before authentication'}`
        : `more than ${oversize.limit} bytes sent before authentication`,
    );
    this.name = 'PacketTooLarge';
  }
}

export interface GuardedConnectionOptions {
  limits?: PacketLimits;
  /** A socket that sends nothing for this long after it opened is closed. */
  firstBytesWithinMs: number;
  /** Called once, with the first bytes that passed the guard about to be readable: gives the connection to aedes. */
  handOver(conn: GuardedConnection): void;
  /** The guard closed a connection before it was handed over (aedes reports those after, as a PacketTooLarge). */
  refusedEarly(oversize: Oversize): void;
}

type WriteCallback = (err?: Error | null) => void;

export class GuardedConnection extends Duplex {
  readonly #socket: Duplex;
  readonly #guard;
  #handedOver = false;

  constructor(socket: Duplex, opts: GuardedConnectionOptions) {
    super({ allowHalfOpen: false });
    this.#socket = socket;
    this.#guard = createPacketSizeGuard(opts.limits);
    // A plain timer, not socket.setTimeout: a WebSocket stream has none.
    const silence = setTimeout(() => this.destroy(), opts.firstBytesWithinMs);
    socket.on('data', (chunk: Buffer) => {
      const oversize = this.#guard.feed(chunk);
      if (oversize) {
        if (this.#handedOver) return void this.destroy(new PacketTooLarge(oversize));
        opts.refusedEarly(oversize);
        return void this.destroy();
      }
      if (!this.#handedOver) {
        this.#handedOver = true;
        clearTimeout(silence);
        opts.handOver(this);
      }
      if (!this.push(chunk)) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('drain', () => this.emit('drain'));
    // Before the hand-over nobody listens for this stream's errors: a reset socket just closes.
    socket.on('error', (err: Error) => this.destroy(this.#handedOver ? err : undefined));
    socket.on('close', () => {
      clearTimeout(silence);
      this.destroy();
    });
  }

  /** CONNECT accepted: later packets may be as large as an authenticated device's. */
  authenticated(): void {
    this.#guard.authenticated();
  }

  override _read(): void {
    this.#socket.resume();
  }

  // Writes skip this stream's own Writable buffer and go to the socket, which buffers, corks and
  // reports backpressure itself: every PUBACK went through two Writables, and the first one's
  // bookkeeping showed in the ingest profile. aedes only writes, corks and waits for 'drain'.
  override write(chunk: unknown, encoding?: BufferEncoding | WriteCallback, cb?: WriteCallback): boolean {
    if (typeof encoding === 'function') return this.#socket.write(chunk, encoding);
    return encoding === undefined ? this.#socket.write(chunk, cb) : this.#socket.write(chunk, encoding, cb);
  }

  override cork(): void {
    this.#socket.cork();
  }

  override uncork(): void {
    this.#socket.uncork();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.#socket.write(chunk, encoding, done);
  }

  override _final(done: (err?: Error | null) => void): void {
    this.#socket.end(done);
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.#socket.destroy();
    done(err);
  }
}
