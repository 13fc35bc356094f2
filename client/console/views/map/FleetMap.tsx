/** @jsxImportSource preact */
// The Leaflet map of the page: the offline basemap, the fences, the terminals. Leaflet owns the
// DOM inside its box; Preact only hands it data. The view is fitted once per `fitKey` (a new
// merchant filter) after its data has loaded, then left to the user.
import 'leaflet/dist/leaflet.css';
import './map.css';
import L from 'leaflet';
import { useEffect, useRef } from 'preact/hooks';
import { basemapLayer } from './basemap.ts';
import type { FencePoint, TerminalPoint } from './mapData.ts';
import { drawFences, drawTerminals, initialBounds } from './markers.ts';

interface Props {
  terminals: TerminalPoint[];
  fences: FencePoint[];
  merchantName(id: string): string;
  /** The terminals strictly in view, after every move and every redraw. */
  onView(visible: TerminalPoint[]): void;
  /** Fit the view to the data when this changes and `ready` holds. */
  fitKey: string;
  /** Fit to the fences too, not only the terminals (one merchant is chosen). */
  fitFences: boolean;
  ready: boolean;
}

interface Parts {
  map: L.Map;
  fenceLayer: L.LayerGroup;
  terminalLayer: L.LayerGroup;
}

export function FleetMap(props: Props) {
  const box = useRef<HTMLDivElement>(null);
  const parts = useRef<Parts | null>(null);
  const latest = useRef(props);
  latest.current = props;
  const fitted = useRef<string | null>(null);

  const redraw = () => {
    const p = parts.current;
    if (!p) return;
    const { terminals, merchantName, onView } = latest.current;
    onView(drawTerminals(p.map, p.terminalLayer, terminals, merchantName));
    // The zoom drawn, for the browser tests (a zoom is animated; this is set when it has ended).
    p.map.getContainer().dataset.zoom = String(p.map.getZoom());
  };

  useEffect(() => {
    if (!box.current) return;
    const map = L.map(box.current, { worldCopyJump: true, minZoom: 1, maxZoom: 18, zoomSnap: 0.5 });
    map.attributionControl.setPrefix('Leaflet').addAttribution('Countries: Natural Earth');
    basemapLayer().addTo(map);
    parts.current = { map, fenceLayer: L.layerGroup().addTo(map), terminalLayer: L.layerGroup().addTo(map) };
    map.setView([20, 0], 2);
    map.on('moveend', redraw);
    return () => {
      parts.current = null;
      map.remove();
    };
  }, []);

  useEffect(() => {
    const p = parts.current;
    if (p) drawFences(p.fenceLayer, props.fences);
  }, [props.fences]);

  useEffect(() => {
    const p = parts.current;
    if (!p) return;
    if (props.ready && fitted.current !== props.fitKey) {
      fitted.current = props.fitKey;
      const bounds = initialBounds(props.terminals, props.fences, props.fitFences);
      // fitBounds ends in moveend, which redraws; an unchanged view would not move.
      if (bounds) p.map.fitBounds(bounds.pad(0.15), { maxZoom: 16, animate: false });
    }
    redraw();
  }, [props.terminals, props.ready, props.fitKey]);

  return (
    <div
      ref={box}
      class="fleet-map"
      role="region"
      aria-label="Map of terminals and merchant geofences"
      data-ready={String(props.ready)}
      data-fit-key={props.fitKey}
    />
  );
}
