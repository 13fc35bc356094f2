/** @jsxImportSource preact */
// An app deployment's own fields: the action, then the package version to install or update to
// (the registered versions of GET /v1/apps), or for an uninstall the package's name (any name: a
// factory app was never registered). The create body's members come from appParamsOf.
import { useEffect, useState } from 'preact/hooks';
import type { z } from 'zod';
import { packageSummary } from '../../../../server/apps/appRoutes.ts';
import { appActions } from '../../../../server/apps/appScreen.ts';
import { page } from '../../../../server/http/schemas.ts';
import { api } from '../../session.ts';
import { ErrorBox, Field } from '../../ui.tsx';
import { appParamsOf, appVersionChoices, type AppChoice } from './campaignRules.ts';
import type { KindParams } from './KindFields.tsx';

const packagePage = page(packageSummary);
const isAction = (v: string): v is AppChoice['action'] => appActions.some((a) => a === v);

export function AppFields({ set }: { set(p: KindParams): void }) {
  const [packages, setPackages] = useState<z.infer<typeof packageSummary>[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [choice, setChoice] = useState<AppChoice>({ action: 'install', appId: '', packageName: '' });
  useEffect(() => {
    api
      .call(packagePage, 'GET', '/v1/apps', { query: { limit: 200 } })
      .then((p) => setPackages(p.items))
      .catch(setError);
  }, []);
  const change = (patch: Partial<AppChoice>) => {
    const next = { ...choice, ...patch };
    setChoice(next);
    set(appParamsOf(next));
  };
  const versions = appVersionChoices(packages ?? []);

  return (
    <fieldset class="form-stack">
      <legend>App</legend>
      {error ? <ErrorBox error={error} /> : null}
      <Field label="Action" id="c-app-action">
        <select
          id="c-app-action"
          value={choice.action}
          onChange={(e) => {
            const v = e.currentTarget.value;
            if (isAction(v)) change({ action: v });
          }}
        >
          {appActions.map((a) => (
            <option value={a}>{a}</option>
          ))}
        </select>
      </Field>
      {choice.action === 'uninstall' ? (
        <Field label="Package to remove" id="c-app-package">
          <input
            id="c-app-package"
            type="text"
            list="c-app-packages"
            placeholder="com.acme.emv"
            value={choice.packageName}
            onInput={(e) => change({ packageName: e.currentTarget.value })}
          />
          <datalist id="c-app-packages">
            {(packages ?? []).map((p) => (
              <option value={p.packageName} />
            ))}
          </datalist>
        </Field>
      ) : (
        <Field label="App version" id="c-app-version">
          <select id="c-app-version" value={choice.appId} onChange={(e) => change({ appId: e.currentTarget.value })}>
            <option value="">
              {packages === null ? 'Loading…' : versions.length ? 'Pick a version' : 'No app registered yet (Firmware & apps page)'}
            </option>
            {versions.map((v) => (
              <option value={v.id} disabled={!v.ready}>
                {v.label}
              </option>
            ))}
          </select>
        </Field>
      )}
      <p class="muted small">
        Terminals of another model or below the package's minimum firmware are skipped as incompatible, those on the version already as
        already_installed.
      </p>
    </fieldset>
  );
}
