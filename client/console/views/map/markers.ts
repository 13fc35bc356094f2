// Drawing terminals and fences on a Leaflet map. Terminals around the view are grouped on screen
// (clusterNear): a terminal alone is a circle coloured by presence with a popup that links to its
// device page, several close together a numbered cluster that zooms in when clicked. Popups are
// built from DOM nodes with text only: no server string is ever parsed as HTML.
import L from 'leaflet';
import { clusterNear, clusterRadiusPx, inBounds, presenceLabel, type Bounds, type FencePoint, type TerminalPoint } from './mapData.ts';

const CELL_PX = 64;

export const boundsOf = (b: L.LatLngBounds): Bounds => ({ south: b.getSouth(), west: b.getWest(), north: b.getNorth(), east: b.getEast() });

function node<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, className?: string): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (text !== undefined) el.textContent = text;
  if (className) el.className = className;
  return el;
}

function popupOf(p: TerminalPoint, merchantName: (id: string) => string): HTMLElement {
  const box = node('div', undefined, 'map-popup');
  box.dataset.deviceId = p.id;
  const state = node('p', `${presenceLabel[p.presence]} · ${p.status}`);
  const merchant = node('p', p.merchantId ? `Merchant: ${merchantName(p.merchantId)}` : 'No merchant');
  const link = node('a', 'Open device page');
  link.href = `/ui/devices/${encodeURIComponent(p.id)}`;
  box.append(node('strong', p.serial), merchant, state, link);
  return box;
}

function terminalMarker(p: TerminalPoint, merchantName: (id: string) => string): L.CircleMarker {
  const marker = L.circleMarker([p.lat, p.lon], {
    radius: 7,
    weight: 2,
    fillOpacity: 0.9,
    className: `map-terminal map-terminal-${p.presence}`,
  });
  marker.bindPopup(() => popupOf(p, merchantName));
  marker.bindTooltip(`${p.serial} (${presenceLabel[p.presence]})`);
  // The SVG path exists once the marker is on a map: name it for tests and styles.
  marker.on('add', () => {
    const el = marker.getElement();
    if (!el) return;
    el.setAttribute('data-device-id', p.id);
    el.setAttribute('data-presence', p.presence);
  });
  return marker;
}

function clusterMarker(map: L.Map, at: L.LatLng, members: TerminalPoint[]): L.Marker {
  const offline = members.filter((m) => m.presence !== 'online').length;
  const icon = L.divIcon({
    className: `map-cluster${offline ? ' map-cluster-mixed' : ''}`,
    html: String(members.length),
    iconSize: [36, 36],
  });
  const marker = L.marker(at, { icon, title: `${members.length} terminals, ${offline} not online: zoom in`, keyboard: true });
  marker.on('click', () => map.fitBounds(L.latLngBounds(members.map((m) => L.latLng(m.lat, m.lon))).pad(0.2), { maxZoom: 16 }));
  return marker;
}

/** Redraws the terminals in (and a little around) the view; answers the ones strictly in view. */
export function drawTerminals(
  map: L.Map,
  layer: L.LayerGroup,
  all: TerminalPoint[],
  merchantName: (id: string) => string,
): TerminalPoint[] {
  const view = boundsOf(map.getBounds());
  const near = boundsOf(map.getBounds().pad(0.25));
  const nearby = all.filter((p) => inBounds(p, near));
  layer.clearLayers();
  const placed = nearby.map((item) => {
    const at = map.latLngToLayerPoint([item.lat, item.lon]);
    return { x: at.x, y: at.y, item };
  });
  for (const c of clusterNear(placed, clusterRadiusPx(placed.length))) {
    const [only] = c.items;
    if (c.items.length === 1 && only) layer.addLayer(terminalMarker(only, merchantName));
    else layer.addLayer(clusterMarker(map, map.layerPointToLatLng([c.x, c.y]), c.items));
  }
  return all.filter((p) => inBounds(p, view));
}

export function drawFences(layer: L.LayerGroup, fences: FencePoint[]) {
  layer.clearLayers();
  for (const f of fences) {
    const circle = L.circle([f.lat, f.lon], { radius: f.radiusM, weight: 2, fillOpacity: 0.12, className: 'map-fence', interactive: true });
    circle.bindTooltip(`${f.name}: geofence ${f.radiusM} m`);
    circle.on('add', () => circle.getElement()?.setAttribute('data-merchant-id', f.merchantId));
    layer.addLayer(circle);
  }
}

/**
 * What the view first shows: the terminals (with `fences`, the chosen merchant's fence), or the
 * fences when no terminal is placed, or the world when there is neither. All merchants' fences
 * would zoom a city's terminals out to a continent.
 */
export function initialBounds(terminals: TerminalPoint[], fences: FencePoint[], withFences: boolean): L.LatLngBounds | null {
  const fenceCorners = fences.flatMap((f) => {
    const fence = L.latLng(f.lat, f.lon).toBounds(f.radiusM * 2);
    return [fence.getNorthEast(), fence.getSouthWest()];
  });
  const points = [...terminals.map((t) => L.latLng(t.lat, t.lon)), ...(withFences || !terminals.length ? fenceCorners : [])];
  return points.length ? L.latLngBounds(points) : null;
}
