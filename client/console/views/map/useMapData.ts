// Loads what the map draws: every merchant (their fences) and every terminal of the caller's
// subtree, 500 a page, published after each page so the map fills in while the rest arrives and a
// fleet of 10,000 costs twenty requests, not one answer the browser chokes on. A new filter
// abandons the pages still coming for the old one.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../../session.ts';
import { fencePoint, mapDevicePage, merchantPage, terminalPoints, type FencePoint, type TerminalPoint } from './mapData.ts';

const PAGE = 500;

export interface MapData {
  terminals: TerminalPoint[];
  fences: FencePoint[];
  /** Terminals listed so far, with or without a location. */
  listed: number;
  done: boolean;
  error: unknown;
}

const empty: MapData = { terminals: [], fences: [], listed: 0, done: false, error: null };

async function allMerchants(): Promise<FencePoint[]> {
  const fences: FencePoint[] = [];
  let cursor: string | undefined;
  do {
    const p = await api.call(merchantPage, 'GET', '/v1/merchants', { query: { limit: PAGE, cursor } });
    fences.push(...p.items.map(fencePoint));
    cursor = p.nextCursor ?? undefined;
  } while (cursor);
  return fences;
}

export function useMapData(merchantId: string | undefined): MapData {
  const [data, setData] = useState<MapData>(empty);

  useEffect(() => {
    let gone = false;
    setData(empty);
    void (async () => {
      const fences = await allMerchants();
      if (gone) return;
      setData((d) => ({ ...d, fences }));
      const terminals: TerminalPoint[] = [];
      let listed = 0;
      let cursor: string | undefined;
      do {
        const p = await api.call(mapDevicePage, 'GET', '/v1/devices', { query: { limit: PAGE, cursor, merchantId } });
        if (gone) return;
        listed += p.items.length;
        terminals.push(...terminalPoints(p.items));
        cursor = p.nextCursor ?? undefined;
        setData({ terminals: [...terminals], fences, listed, done: !cursor, error: null });
      } while (cursor);
    })().catch((error: unknown) => gone || setData((d) => ({ ...d, done: true, error })));
    return () => {
      gone = true;
    };
  }, [merchantId]);

  return data;
}
