/** @jsxImportSource preact */
// The campaign pages as the router mounts them (each takes only the shell's context): the list of
// every kind at /ui/rollouts, and per kind the form for a new one (parameter pushes are made on
// /ui/parameters) and one campaign's page.
import type { ViewContext } from '../../viewContract.ts';
import { appDeploymentKind, campaignKinds, keyRotationKind, parameterPushKind, rolloutKind } from './campaignKinds.ts';
import { CampaignDetail } from './CampaignDetail.tsx';
import { CampaignForm } from './CampaignForm.tsx';
import { CampaignList } from './CampaignList.tsx';
import { MaintenanceWindows } from './MaintenanceWindows.tsx';

type Page = (props: { ctx: ViewContext }) => preact.JSX.Element;

export const CampaignsPage: Page = ({ ctx }) => (
  <>
    {campaignKinds.map((k) => (
      <CampaignList key={k.key} kind={k} />
    ))}
    <MaintenanceWindows ctx={ctx} />
  </>
);
export const NewRolloutPage: Page = ({ ctx }) => <CampaignForm ctx={ctx} kind={rolloutKind} />;
export const NewKeyRotationPage: Page = ({ ctx }) => <CampaignForm ctx={ctx} kind={keyRotationKind} />;
export const RolloutPage: Page = ({ ctx }) => <CampaignDetail ctx={ctx} kind={rolloutKind} />;
export const KeyRotationPage: Page = ({ ctx }) => <CampaignDetail ctx={ctx} kind={keyRotationKind} />;
export const NewAppDeploymentPage: Page = ({ ctx }) => <CampaignForm ctx={ctx} kind={appDeploymentKind} />;
export const AppDeploymentPage: Page = ({ ctx }) => <CampaignDetail ctx={ctx} kind={appDeploymentKind} />;
export const ParameterPushPage: Page = ({ ctx }) => <CampaignDetail ctx={ctx} kind={parameterPushKind} />;
