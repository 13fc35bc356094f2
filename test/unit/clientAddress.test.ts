import { describe, expect, it } from 'vitest';
import { normalizeAddress, parseProxyEntry, resolveClientAddress, trustedProxies } from '../../server/http/clientAddress.ts';

describe('client address behind proxies', () => {
  const lb = trustedProxies(['10.0.0.0/8', '192.168.1.10', 'fd00::/8']);

  it('is the peer when no proxy is trusted, whatever the header says', () => {
    expect(resolveClientAddress('203.0.113.9', '198.51.100.1', trustedProxies([]))).toBe('203.0.113.9');
    expect(resolveClientAddress('10.1.2.3', '198.51.100.1', trustedProxies([]))).toBe('10.1.2.3');
  });

  it('ignores the header from a peer that is not a trusted proxy', () => {
    expect(resolveClientAddress('203.0.113.9', '198.51.100.1', lb)).toBe('203.0.113.9');
  });

  it('takes the rightmost hop the trusted proxies did not add', () => {
    expect(resolveClientAddress('10.1.2.3', '198.51.100.1', lb)).toBe('198.51.100.1');
    // The client wrote "1.2.3.4" itself; two of our proxies then appended what they saw.
    expect(resolveClientAddress('10.1.2.3', '1.2.3.4, 198.51.100.1, 192.168.1.10', lb)).toBe('198.51.100.1');
    expect(resolveClientAddress('::ffff:10.1.2.3', '2001:db8::5', lb)).toBe('2001:db8::5');
    expect(resolveClientAddress('fd12::1', '198.51.100.7', lb)).toBe('198.51.100.7');
  });

  it('stops at a malformed hop rather than believing what lies left of it', () => {
    expect(resolveClientAddress('10.1.2.3', '1.2.3.4, nonsense', lb)).toBe('10.1.2.3');
    expect(resolveClientAddress('10.1.2.3', '', lb)).toBe('10.1.2.3');
  });

  it('when every hop is a trusted proxy, the leftmost one is the best there is', () => {
    expect(resolveClientAddress('10.1.2.3', '10.9.9.9, 192.168.1.10', lb)).toBe('10.9.9.9');
  });

  it('normalizes IPv4-mapped IPv6 peers', () => {
    expect(normalizeAddress('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(normalizeAddress(' 2001:db8::1 ')).toBe('2001:db8::1');
  });

  it('parses addresses and CIDR blocks, and refuses the rest', () => {
    expect(parseProxyEntry('10.0.0.0/8')).toEqual({ address: '10.0.0.0', prefix: 8 });
    expect(parseProxyEntry('::1')).toEqual({ address: '::1' });
    for (const bad of ['10.0.0.0/33', 'fd00::/129', 'example.com', '10.0.0.0/8/1', '10.0.0.0/x', '']) expect(parseProxyEntry(bad)).toBeNull();
    expect(() => trustedProxies(['10.0.0.0/33'])).toThrow(/CIDR/);
  });
});
