/**
 * The Organizations adapter against the simulated organization, through the real SDK client: every page is read
 * (including an empty first page that still carries a NextToken, as AWS may answer), an account's `State` decides
 * whether it is active, and a denied call fails the discovery instead of answering "no accounts".
 */
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { beforeEach, describe, expect, it } from 'vitest';
import { OrganizationsAdapter } from '../../../lambda/adapters/organizations';
import { SimulatedOrganization } from '../../../sim/organization';

const MANAGEMENT = '111111111111';
const MEMBER = '222222222222';

let org: SimulatedOrganization;
let unit: string;

beforeEach(() => {
  org = new SimulatedOrganization({
    accounts: [
      { accountId: MANAGEMENT, regions: ['eu-west-1'] },
      { accountId: MEMBER, regions: ['eu-west-1'] },
    ],
  });
  unit = org.organizations.createOrganizationalUnit();
  for (let i = 0; i < 5; i += 1) org.organizations.createOrganizationalUnit(unit);
  for (let i = 0; i < 5; i += 1) org.organizations.placeAccount(`30000000000${i}`, unit);
  org.organizations.placeAccount('399999999999', unit, 'SUSPENDED');
  org.organizations.placeAccount('388888888888', unit, 'PENDING_ACTIVATION');
});

const adapterFor = (accountId: string) =>
  new OrganizationsAdapter(
    new OrganizationsClient(org.clientConfig({ accountId, region: 'eu-west-1', maxAttempts: 1 })),
  );

describe('the Organizations adapter', () => {
  it('given more children than a page and an empty first page, when listed, then every child OU is returned', async () => {
    const children = await adapterFor(MANAGEMENT).childOrganizationalUnits(unit);

    expect(children).toHaveLength(5);
    expect(org.organizationsTransport.callCount('organizations', 'ListChildren')).toBe(4);
  });

  it('given active, suspended and pending accounts over several pages, when listed, then each is returned with whether its State is ACTIVE', async () => {
    const accounts = await adapterFor(MANAGEMENT).accountsOf(unit);

    expect(accounts.filter((a) => a.active).map((a) => a.id)).toEqual([
      '300000000000',
      '300000000001',
      '300000000002',
      '300000000003',
      '300000000004',
    ]);
    expect(accounts.filter((a) => !a.active).map((a) => a.id)).toEqual(['399999999999', '388888888888']);
  });

  it('given a member account that is no delegated administrator, when it lists, then the call fails with AccessDeniedException', async () => {
    await expect(adapterFor(MEMBER).accountsOf(unit)).rejects.toMatchObject({ name: 'AccessDeniedException' });

    org.organizations.registerDelegatedAdministrator(MEMBER);
    await expect(adapterFor(MEMBER).accountsOf(unit)).resolves.toHaveLength(7);
  });
});
