// Who is on the other end of an HTTP request, for audit entries and the enrollment rate limit.
// Behind a load balancer the peer is the balancer, so X-Forwarded-For is read, but only the hops
// added by proxies we trust (TRUSTED_PROXIES): walking from the right, the first address not in
// that list is the client. Anything further left was written by the client and proves nothing.
import { BlockList, isIP } from 'node:net';

export type TrustedProxies = (address: string) => boolean;

/** Strips the IPv4-mapped IPv6 prefix Node reports for IPv4 peers on a dual-stack socket. */
export function normalizeAddress(address: string): string {
  const a = address.trim();
  return a.toLowerCase().startsWith('::ffff:') && isIP(a.slice(7)) === 4 ? a.slice(7) : a;
}

/** One entry of TRUSTED_PROXIES: an address or a CIDR block, IPv4 or IPv6. */
export function parseProxyEntry(entry: string): { address: string; prefix?: number } | null {
  const [address = '', prefixText, extra] = entry.trim().split('/');
  const family = isIP(address);
  if (!family || extra !== undefined) return null;
  if (prefixText === undefined) return { address };
  if (!/^[0-9]{1,3}$/.test(prefixText)) return null;
  const prefix = Number(prefixText);
  return prefix <= (family === 4 ? 32 : 128) ? { address, prefix } : null;
}

export function trustedProxies(entries: readonly string[]): TrustedProxies {
  if (entries.length === 0) return () => false;
  const list = new BlockList();
  for (const e of entries) {
    const parsed = parseProxyEntry(e);
    if (!parsed) throw new Error(`not an address or CIDR block: ${e}`);
    const family = isIP(parsed.address) === 4 ? 'ipv4' : 'ipv6';
    if (parsed.prefix === undefined) list.addAddress(parsed.address, family);
    else list.addSubnet(parsed.address, parsed.prefix, family);
  }
  return (address) => {
    const a = normalizeAddress(address);
    const family = isIP(a);
    return family !== 0 && list.check(a, family === 4 ? 'ipv4' : 'ipv6');
  };
}

/** The client's address: the peer, or, if the peer is a trusted proxy, the rightmost untrusted hop. */
export function resolveClientAddress(peer: string, forwardedFor: string | undefined, trusted: TrustedProxies): string {
  let client = normalizeAddress(peer);
  if (!forwardedFor || !trusted(client)) return client;
  const hops = forwardedFor.split(',').map(normalizeAddress).filter((h) => h.length > 0);
  for (let i = hops.length - 1; i >= 0 && trusted(client); i--) {
    const hop = hops[i]!;
    if (!isIP(hop)) break; // a malformed hop ends what we can believe
    client = hop;
  }
  return client;
}
