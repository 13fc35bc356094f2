/** @jsxImportSource preact */
// The fields only one kind has: a rollout's firmware (from GET /v1/firmware) and install mode, a
// key rotation's key usages, an app deployment's action and package (AppFields.tsx). Each keeps
// them as the create body's own members.
import { useEffect, useState } from 'preact/hooks';
import type { z } from 'zod';
import { rotatableUsages } from '../../../../schemas/keyCrypto/header.ts';
import { otaModes } from '../../../../schemas/ota.ts';
import { firmwareSchema } from '../../../../server/firmware/firmwareRoutes.ts';
import { page } from '../../../../server/http/schemas.ts';
import { api } from '../../session.ts';
import { ErrorBox, Field } from '../../ui.tsx';
import { AppFields } from './AppFields.tsx';
import type { CreatableKind } from './campaignKinds.ts';

export type KindParams = Record<string, unknown>;
const firmwarePage = page(firmwareSchema);

function RolloutFields({ params, set }: { params: KindParams; set(p: KindParams): void }) {
  const [firmware, setFirmware] = useState<z.infer<typeof firmwareSchema>[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    api
      .call(firmwarePage, 'GET', '/v1/firmware', { query: { limit: 500 } })
      .then((p) => setFirmware(p.items))
      .catch(setError);
  }, []);
  const value = (e: Event) => (e.currentTarget instanceof HTMLSelectElement ? e.currentTarget.value : '');
  return (
    <fieldset class="form-stack">
      <legend>Firmware</legend>
      {error ? <ErrorBox error={error} /> : null}
      <Field label="Firmware" id="c-firmware">
        <select
          id="c-firmware"
          value={String(params.firmwareId ?? '')}
          onChange={(e) => set({ ...params, firmwareId: value(e) || undefined })}
        >
          <option value="">
            {firmware === null ? 'Loading…' : firmware.length ? 'Pick an image' : 'No firmware uploaded yet (POST /v1/firmware)'}
          </option>
          {(firmware ?? []).map((f) => (
            <option value={f.id} disabled={f.state !== 'ready'}>
              {`${f.name} ${f.version}${f.state === 'ready' ? '' : ' (content not uploaded)'}`}
            </option>
          ))}
        </select>
      </Field>
      <Field label="Install mode" id="c-mode">
        <select id="c-mode" value={String(params.mode ?? 'forced')} onChange={(e) => set({ ...params, mode: value(e) })}>
          {otaModes.map((m) => (
            <option value={m}>{m.replace(/_/g, ' ')}</option>
          ))}
        </select>
      </Field>
    </fieldset>
  );
}

function KeyRotationFields({ params, set }: { params: KindParams; set(p: KindParams): void }) {
  const chosen = Array.isArray(params.usages) ? params.usages.filter((u): u is string => typeof u === 'string') : [];
  return (
    <fieldset class="form-stack">
      <legend>Keys to replace</legend>
      {rotatableUsages.map((u) => (
        <label class="check">
          <input
            type="checkbox"
            name="usages"
            value={u}
            checked={chosen.includes(u)}
            onChange={(e) => {
              const on = e.currentTarget.checked;
              set({ ...params, usages: on ? [...chosen, u] : chosen.filter((x) => x !== u) });
            }}
          />{' '}
          {u}
        </label>
      ))}
    </fieldset>
  );
}

export function KindFields(props: { kind: CreatableKind; params: KindParams; set(p: KindParams): void }) {
  switch (props.kind.key) {
    case 'rollout':
      return <RolloutFields params={props.params} set={props.set} />;
    case 'keyRotation':
      return <KeyRotationFields params={props.params} set={props.set} />;
    case 'appDeployment':
      return <AppFields set={props.set} />;
  }
}

const initial: Record<CreatableKind['key'], KindParams> = {
  rollout: { mode: 'forced' },
  keyRotation: { usages: [] },
  appDeployment: { action: 'install' },
};
export const initialParams = (kind: CreatableKind): KindParams => ({ ...initial[kind.key] });
