// Ports are found by binding port 0, because fixed ports collide with what else runs here
// (mosquitto holds 1883).
import { createServer } from 'node:net';

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

/** Source address of load-generator `index`: spreads connections over 127.0.0.2, .3, … so no
 *  single (source, destination) pair runs out of ephemeral ports. Loopback only. */
export function sourceAddress(index: number): string {
  const octet = 2 + index;
  if (octet > 254) throw new Error(`too many source addresses (${index})`);
  return `127.0.0.${octet}`;
}
