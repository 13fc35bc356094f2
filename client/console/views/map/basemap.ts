// The basemap: Natural Earth's country shapes at 1:110m from the world-atlas package, bundled with
// the console and drawn as a vector layer, so the map needs no tile server and works on a closed
// network. Enough to see which city, not which street; the fences and markers carry the detail.
import type { FeatureCollection } from 'geojson';
import L from 'leaflet';
import { feature } from 'topojson-client';
import type { GeometryCollection, Topology } from 'topojson-specification';
import countries110m from 'world-atlas/countries-110m.json' with { type: 'json' };

const isCountriesTopology = (x: unknown): x is Topology<{ countries: GeometryCollection }> =>
  typeof x === 'object' &&
  x !== null &&
  'type' in x &&
  x.type === 'Topology' &&
  'objects' in x &&
  typeof x.objects === 'object' &&
  x.objects !== null &&
  'countries' in x.objects;

function countryShapes(): FeatureCollection {
  const topology: unknown = countries110m;
  if (!isCountriesTopology(topology)) throw new Error('world-atlas/countries-110m.json is not the countries topology');
  return feature(topology, topology.objects.countries);
}

export function basemapLayer(): L.GeoJSON {
  return L.geoJSON(countryShapes(), {
    interactive: false,
    style: () => ({ className: 'map-country', weight: 0.6, fillOpacity: 1 }),
  });
}
