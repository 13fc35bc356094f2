// Loads what the map draws: every merchant (their fences), once, and every terminal of the
// caller's subtree for the merchant filter, 500 a page, published after each page so the map
// fills in while the rest arrives and a fleet of 10,000 costs twenty requests, not one answer the
// browser chokes on. A new filter abandons the pages still coming for the old one.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../../session.ts';
import { fencePoint, mapDevicePage, merchantPage, terminalPoints, type FencePoint, type TerminalPoint } from './mapData.ts';

const PAGE = 500;

export interface MapData {
  terminals: TerminalPoint[];
  fences: FencePoint[];
  /** Terminals listed so far, with or without a location. */
  listed: number;
  /** Merchants and every page of terminals are in. */
  done: boolean;
  error: unknown;
}

interface TerminalLoad {
  /** The filter it was loaded for. */
  for: string | undefined;
  terminals: TerminalPoint[];
  listed: number;
  done: boolean;
  error: unknown;
}

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
  const [fences, setFences] = useState<{ list: FencePoint[]; done: boolean; error: unknown }>({ list: [], done: false, error: null });
  const [load, setLoad] = useState<TerminalLoad>({ for: merchantId, terminals: [], listed: 0, done: false, error: null });

  useEffect(() => {
    let gone = false;
    allMerchants()
      .then((list) => gone || setFences({ list, done: true, error: null }))
      .catch((error: unknown) => gone || setFences({ list: [], done: true, error }));
    return () => {
      gone = true;
    };
  }, []);

  useEffect(() => {
    let gone = false;
    const terminals: TerminalPoint[] = [];
    let listed = 0;
    setLoad({ for: merchantId, terminals, listed, done: false, error: null });
    void (async () => {
      let cursor: string | undefined;
      do {
        const p = await api.call(mapDevicePage, 'GET', '/v1/devices', { query: { limit: PAGE, cursor, merchantId } });
        if (gone) return;
        listed += p.items.length;
        terminals.push(...terminalPoints(p.items));
        cursor = p.nextCursor ?? undefined;
        setLoad({ for: merchantId, terminals: [...terminals], listed, done: !cursor, error: null });
      } while (cursor);
    })().catch((error: unknown) => gone || setLoad({ for: merchantId, terminals, listed, done: true, error }));
    return () => {
      gone = true;
    };
  }, [merchantId]);

  // In the render right after a new filter, before its load starts, the old filter's terminals
  // are neither shown nor said to be complete.
  const current = load.for === merchantId;
  return {
    terminals: current ? load.terminals : [],
    fences: fences.list,
    listed: current ? load.listed : 0,
    done: current && load.done && fences.done,
    error: (current ? load.error : null) ?? fences.error,
  };
}
