// The new-merchant form's fields and the API body they make, checked with the API's own
// merchantCreate schema (pure: tested without a browser).
import { merchantCreate } from '../../../../server/merchants/apiSchemas.ts';

export const FIELDS = [
  ['name', 'Name', 'text'],
  ['mid', 'MID (15 digits)', 'text'],
  ['mcc', 'MCC', 'text'],
  ['address', 'Address', 'text'],
  ['lat', 'Latitude', 'number'],
  ['lon', 'Longitude', 'number'],
  ['radiusM', 'Fence radius (m)', 'number'],
  ['timezone', 'Time zone', 'text'],
  ['businessLicenceNo', 'Business licence no.', 'text'],
  ['taxId', 'Tax id', 'text'],
] as const;
export type Draft = Partial<Record<(typeof FIELDS)[number][0] | 'kind', string>>;

/** The API's body from the form's text fields (numbers as numbers; an empty number stays absent). */
export function merchantBody(d: Draft) {
  const num = (v: string | undefined) => (v?.trim() ? Number(v) : undefined);
  return merchantCreate.safeParse({
    name: d.name,
    mid: d.mid?.trim(),
    mcc: d.mcc?.trim(),
    address: d.address,
    location: { lat: num(d.lat), lon: num(d.lon) },
    radiusM: num(d.radiusM),
    timezone: d.timezone?.trim(),
    kind: d.kind ?? 'single',
    documents: { businessLicenceNo: d.businessLicenceNo, taxId: d.taxId },
  });
}
