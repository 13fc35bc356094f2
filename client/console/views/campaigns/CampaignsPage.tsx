/** @jsxImportSource preact */
// The campaign pages as the router mounts them (each takes only the shell's context): the list of
// both kinds at /ui/rollouts, and per kind the form for a new one and one campaign's page.
import type { ViewContext } from '../../viewContract.ts';
import { campaignKinds, keyRotationKind, rolloutKind } from './campaignKinds.ts';
import { CampaignDetail } from './CampaignDetail.tsx';
import { CampaignForm } from './CampaignForm.tsx';
import { CampaignList } from './CampaignList.tsx';

type Page = (props: { ctx: ViewContext }) => preact.JSX.Element;

export const CampaignsPage: Page = () => (
  <>
    {campaignKinds.map((k) => (
      <CampaignList key={k.key} kind={k} />
    ))}
  </>
);
export const NewRolloutPage: Page = ({ ctx }) => <CampaignForm ctx={ctx} kind={rolloutKind} />;
export const NewKeyRotationPage: Page = ({ ctx }) => <CampaignForm ctx={ctx} kind={keyRotationKind} />;
export const RolloutPage: Page = ({ ctx }) => <CampaignDetail ctx={ctx} kind={rolloutKind} />;
export const KeyRotationPage: Page = ({ ctx }) => <CampaignDetail ctx={ctx} kind={keyRotationKind} />;
