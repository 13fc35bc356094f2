/** @jsxImportSource preact */
// Firmware and payment-app packages: how an image is signed (offline, never here), the form that
// publishes it, and the two catalogues, each paged on the server.
import { z } from 'zod';
import { packageSummary } from '../../../../server/apps/appRoutes.ts';
import { firmwareSchema } from '../../../../server/firmware/firmwareRoutes.ts';
import { page as pageOf } from '../../../../server/http/schemas.ts';
import { api } from '../../session.ts';
import { ErrorBox, fmtNumber, Pager, StateBadge, Table, Time } from '../../ui.tsx';
import { usePaged } from '../../usePaged.ts';
import type { ViewContext } from '../../viewContract.ts';
import { uploadRefusals } from './refusals.ts';
import { UploadForm } from './UploadForm.tsx';

const PAGE = 20;
// Firmware is an open schema (looseObject): the members of its answer this page shows.
const firmwarePage = pageOf(firmwareSchema.extend({ models: z.array(z.string()), createdAt: z.string(), readyAt: z.string().nullable() }));
const appPage = pageOf(packageSummary);

const fmtSize = (bytes: number) =>
  bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : bytes >= 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${bytes} B`;

function SigningHelp() {
  return (
    <section class="card" aria-labelledby="signing-title">
      <h2 id="signing-title">How an image is signed</h2>
      <p>
        The publisher signs on their own machine, offline; the private key never comes to this page or the server. The server and the
        terminals hold only the publisher's public key (<code>FIRMWARE_PUBLISHER_KEYS</code>).
      </p>
      <ol>
        <li>
          Once: <code>npx tsx scripts/sign-firmware.ts keygen --out ./publisher</code> prints the public key to add to{' '}
          <code>FIRMWARE_PUBLISHER_KEYS</code>.
        </li>
        <li>
          Firmware:{' '}
          <code>
            npx tsx scripts/sign-firmware.ts sign --key publisher/publisher.key --image pos-os-2.1.0.bin --name pos-os --version 2.1.0
            --models PAX-A920,PAX-A80 --out pos-os-2.1.0.json
          </code>{' '}
          (or <code>posfleet firmware sign …</code>).
        </li>
        <li>
          Payment apps, with the same publisher key:{' '}
          <code>
            npx tsx scripts/sign-app.ts sign --key publisher/publisher.key --image emv-2.1.0.pkg --package com.acme.emv --version 2.1.0
            --models PAX-A920 --min-firmware 1.2.0 --out emv-2.1.0.json
          </code>
          .
        </li>
        <li>Load the JSON the tool wrote and the image below: the page registers the manifest, then uploads the image.</li>
      </ol>
      <details>
        <summary>What the server may refuse</summary>
        <dl class="facts refusals">
          {Object.entries(uploadRefusals).map(([code, meaning]) => (
            <>
              <dt>
                <code>{code}</code>
              </dt>
              <dd>{meaning}</dd>
            </>
          ))}
        </dl>
      </details>
    </section>
  );
}

export function FirmwarePage({ ctx }: { ctx: ViewContext }) {
  const firmware = usePaged((cursor) => api.call(firmwarePage, 'GET', '/v1/firmware', { query: { limit: PAGE, cursor } }), []);
  const apps = usePaged((cursor) => api.call(appPage, 'GET', '/v1/apps', { query: { limit: PAGE, cursor } }), []);

  return (
    <>
      <SigningHelp />
      <UploadForm ctx={ctx} onPublished={(kind) => (kind === 'firmware' ? firmware.reload() : apps.reload())} />
      <section aria-labelledby="fw-title">
        <h2 id="fw-title">Firmware</h2>
        <div aria-live="polite" aria-busy={firmware.busy ? 'true' : 'false'}>
          {firmware.error ? (
            <ErrorBox error={firmware.error} />
          ) : firmware.page ? (
            <Table
              caption="Firmware"
              className="firmware-table"
              head={['Name', 'Version', 'Models', 'Size', 'State', 'SHA-256', 'Registered']}
              empty="No firmware yet. Sign an image offline and publish it with the form above."
            >
              {firmware.page.items.map((f) => (
                <tr key={f.id} data-firmware-id={f.id}>
                  <td>{f.name}</td>
                  <td>{f.version}</td>
                  <td>{f.models.join(', ')}</td>
                  <td>{fmtSize(f.size)}</td>
                  <td>
                    <StateBadge state={f.state} />
                  </td>
                  <td>
                    <code title={f.sha256}>{f.sha256.slice(0, 12)}…</code>
                  </td>
                  <td>
                    <Time iso={f.createdAt} />
                  </td>
                </tr>
              ))}
            </Table>
          ) : null}
        </div>
        <Pager label="Pages of firmware" index={firmware.index} hasNext={firmware.hasNext} go={firmware.go} />
      </section>
      <section aria-labelledby="apps-title">
        <h2 id="apps-title">Payment app packages</h2>
        <div aria-live="polite" aria-busy={apps.busy ? 'true' : 'false'}>
          {apps.error ? (
            <ErrorBox error={apps.error} />
          ) : apps.page ? (
            <Table
              caption="Payment app packages"
              className="apps-table"
              head={['Package', 'Installed on', 'Versions']}
              empty="No app package yet. Sign a package's manifest offline and publish it with the form above (kind: payment app package)."
            >
              {apps.page.items.map((p) => (
                <tr key={p.packageName} data-package={p.packageName}>
                  <td>{p.packageName}</td>
                  <td>{fmtNumber(p.installs)} terminals</td>
                  <td>
                    <ul class="plain-list">
                      {p.versions.map((v) => (
                        <li data-version={v.version}>
                          {v.version} {v.state ? <StateBadge state={v.state} /> : <span class="muted">(reported by terminals only)</span>}{' '}
                          <span class="muted">
                            {fmtNumber(v.installs)} installs{v.minFirmware ? `, firmware ≥ ${v.minFirmware}` : ''}
                          </span>
                        </li>
                      ))}
                    </ul>
                  </td>
                </tr>
              ))}
            </Table>
          ) : null}
        </div>
        <Pager label="Pages of app packages" index={apps.index} hasNext={apps.hasNext} go={apps.go} />
      </section>
    </>
  );
}
