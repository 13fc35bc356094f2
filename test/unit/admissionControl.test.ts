import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createConnectAdmission } from '../../server/broker/admissionControl.ts';
import type { AdmissionRefusal } from '../../server/broker/connectAdmission.ts';

/** A connection that records what is written to it. */
function connection() {
  const written: Buffer[] = [];
  const conn = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, done) {
      written.push(chunk);
      done();
    },
  });
  const closed = new Promise<void>((resolve) => conn.once('close', () => resolve()));
  return { conn, written, closed };
}

describe('connect admission on connections', () => {
  it('answers a refused connection CONNACK 3 and closes it, never handing it to the broker', async () => {
    const refusals: AdmissionRefusal[] = [];
    const admission = createConnectAdmission(
      { maxPending: 10, perSecond: 1, burst: 1 },
      (r) => refusals.push(r),
      () => 0,
    );
    const handed: string[] = [];
    const first = connection();
    admission.handOver(first.conn, () => handed.push('first'));
    const second = connection();
    admission.handOver(second.conn, () => handed.push('second'));
    await second.closed;
    expect(handed).toEqual(['first']);
    expect(Buffer.concat(second.written)).toEqual(Buffer.from([0x20, 0x02, 0x00, 0x03]));
    expect(first.written).toEqual([]);
    expect(refusals).toEqual(['rate']);
  });

  it('frees a slot when the connection authenticates or closes, once each', async () => {
    const refusals: AdmissionRefusal[] = [];
    const admission = createConnectAdmission(
      { maxPending: 1, perSecond: 1000, burst: 1000 },
      (r) => refusals.push(r),
      () => 0,
    );
    const a = connection();
    admission.handOver(a.conn, () => {});
    const b = connection();
    admission.handOver(b.conn, () => {});
    expect(refusals).toEqual(['pending']);

    admission.authenticated(a.conn);
    // Its later close must not free a second slot.
    a.conn.destroy();
    await a.closed;
    const c = connection();
    admission.handOver(c.conn, () => {});
    const d = connection();
    admission.handOver(d.conn, () => {});
    expect(refusals).toEqual(['pending', 'pending']);

    c.conn.destroy();
    await c.closed;
    const e = connection();
    let handed = false;
    admission.handOver(e.conn, () => (handed = true));
    expect(handed).toBe(true);
  });
});
