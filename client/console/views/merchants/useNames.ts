// Requests name terminals and merchants by id; the page shows the serial and the name people know.
// Few rows: one lookup per id, cached for the page's life; an id that cannot be read stays an id.
import { useEffect, useState } from 'preact/hooks';
import { device } from '../../../../server/devices/deviceRoutes.ts';
import { merchantOut } from '../../../../server/merchants/apiSchemas.ts';
import { api } from '../../session.ts';

export function useNames(kind: 'device' | 'merchant', ids: string[]) {
  const [names, setNames] = useState<Record<string, string>>({});
  const key = [...new Set(ids)].sort().join(',');
  useEffect(() => {
    for (const id of new Set(ids)) {
      if (id in names) continue;
      const read =
        kind === 'device'
          ? api.call(device, 'GET', `/v1/devices/${encodeURIComponent(id)}`).then((d) => d.serial)
          : api.call(merchantOut, 'GET', `/v1/merchants/${encodeURIComponent(id)}`).then((m) => m.name);
      read.then(
        (name) => setNames((n) => ({ ...n, [id]: name })),
        () => setNames((n) => ({ ...n, [id]: id })),
      );
    }
  }, [key]);
  return (id: string) => names[id] ?? id;
}
