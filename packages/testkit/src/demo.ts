import type { DevIssuer } from '@beacon/platform';
import { fetchWhenSettled } from './settled.js';

/**
 * A small, realistic demo: a generated region's infrastructure (loaded by `seedRegion`), then
 * five agencies report three incidents through the REST door, two of the reports correlate by
 * a shared C2 domain, the ransomware one names the water works it hit (so impact assesses its
 * cascade), and the coordinator engages agencies and scores it. Idempotency keys are fixed, so
 * running it again changes nothing.
 */
export async function seedDemo(
  baseUrl: string,
  issuer: DevIssuer,
  seedRegion: () => Promise<{ assets: number; dependencies: number }>,
): Promise<{
  incidents: number;
  coordinatorToken: string;
  region: { assets: number; dependencies: number };
  assessedIncidentId: string;
  victimCases: number;
}> {
  const token = (
    agencyId: string,
    clearance: 'GREEN' | 'AMBER' | 'RED',
    roles = ['agency_analyst'] as const,
  ) =>
    issuer.mint({
      subject: `${agencyId}-demo`,
      roles: [...roles],
      agencyId,
      clearance,
      ttlSeconds: 8 * 3600,
    });
  const coordinatorToken = await issuer.mint({
    subject: 'ncc-duty-officer',
    roles: ['coordinator'],
    clearance: 'RED',
    ttlSeconds: 8 * 3600,
  });
  const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString();
  const post = async (path: string, bearer: string, body: unknown, key?: string) => {
    // Every call here is idempotent (by id or key), so a stack still settling is waited for.
    const response = await fetchWhenSettled(`${baseUrl}${path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${bearer}`,
        'content-type': 'application/json',
        ...(key ? { 'idempotency-key': key } : {}),
      },
      body: JSON.stringify(body),
    });
    const json = (await response.json()) as Record<string, unknown>;
    if (!response.ok && response.status !== 400 && response.status !== 409) {
      throw new Error(`demo seed: ${path} answered ${response.status}: ${JSON.stringify(json)}`);
    }
    return json;
  };

  // The agencies of the demo, each subscribed to what concerns it (notify enforces TLP and
  // engagement on top): their feeds fill as the reports below come in.
  const agencies = [
    ['cert-bayern', 'AGENCY_KIND_CSIRT', ['DE-BY'], 'TLP_RED', {}],
    [
      'lka-bayern',
      'AGENCY_KIND_LAW_ENFORCEMENT',
      ['DE-BY'],
      'TLP_AMBER',
      { rsitClasses: ['malicious-code', 'fraud'] },
    ],
    ['cert-fr', 'AGENCY_KIND_CSIRT', ['FR'], 'TLP_AMBER', { jurisdictions: ['FR'] }],
    ['grid-operator-at', 'AGENCY_KIND_OPERATOR', ['AT'], 'TLP_RED', { sectors: ['energy'] }],
  ] as const;
  for (const [id, kind, jurisdictions, clearance, filters] of agencies) {
    await post('/v1/agencies', coordinatorToken, {
      agency: {
        id,
        name: id,
        kind,
        jurisdictions,
        sectors: ['energy', 'water-and-wastewater', 'financial-services'],
        clearance,
        contacts: [{ role: 'duty-officer', name: 'Duty officer', email: `duty@${id}.example` }],
      },
    });
    await post('/v1/subscriptions', coordinatorToken, {
      subscription: { id: 'default', agencyId: id, ...filters },
    });
  }

  const region = await seedRegion();
  const water = await fetchWhenSettled(`${baseUrl}/v1/assets?sector=water-and-wastewater&pageSize=1`, {
    headers: { authorization: `Bearer ${coordinatorToken}` },
  });
  const [waterWorks] = ((await water.json()) as { assets?: { id: string }[] }).assets ?? [];

  const ransomware = await post(
    '/v1/reports',
    await token('cert-bayern', 'AMBER'),
    {
      title: 'Ransomware encrypts SCADA HMIs at a regional water utility',
      description: 'Operators switched to manual control; ransom note references a leak site.',
      tlp: 'TLP_AMBER',
      classification: { rsitClass: 'malicious-code', rsitType: 'infected-system' },
      sectors: ['water-and-wastewater'],
      jurisdictions: ['DE-BY'],
      observables: [
        { type: 'domain', value: 'update-check.wtr-telemetry.example' },
        { type: 'ipv4', value: '203.0.113.45' },
        { type: 'sha256', value: 'a3f5c1e2d4b6a8c0e2f4a6b8c0d2e4f6a8b0c2d4e6f8a0b2c4d6e8f0a2b4c6d8' },
      ],
      affectedAssets: waterWorks ? [{ assetId: waterWorks.id, loss: 0.8 }] : [],
      awareAt: hoursAgo(6),
    },
    'demo-report-1-v2',
  );
  await post(
    '/v1/reports',
    await token('lka-bayern', 'AMBER'),
    {
      title: 'Extortion e-mail to a utility after network intrusion',
      description: 'The sender cites the same leak site and a C2 domain seen in the samples.',
      tlp: 'TLP_GREEN',
      classification: { rsitClass: 'malicious-code', rsitType: 'infected-system' },
      sectors: ['water-and-wastewater'],
      jurisdictions: ['DE'],
      observables: [
        { type: 'domain', value: 'Update-Check.WTR-Telemetry.example.' },
        { type: 'email', value: 'Leaks@Extort-Mail.example' },
      ],
      awareAt: hoursAgo(3),
    },
    'demo-report-2-v1',
  );
  const phishing = await post(
    '/v1/reports',
    await token('cert-fr', 'GREEN'),
    {
      title: 'Phishing wave imitating online banking',
      description: 'Credential-harvesting pages hosted on look-alike domains; SMS lures.',
      tlp: 'TLP_GREEN',
      classification: { rsitClass: 'fraud', rsitType: 'phishing' },
      sectors: ['financial-services'],
      jurisdictions: ['FR'],
      observables: [
        { type: 'url', value: 'https://banque-en-ligne-securite.example/connexion' },
        { type: 'phone', value: '+33 6 12 34 56 78' },
      ],
      awareAt: hoursAgo(26),
    },
    'demo-report-3-v1',
  );
  await post(
    '/v1/reports',
    await token('grid-operator-at', 'RED', ['agency_analyst']),
    {
      title: 'Unauthorised access to a transmission operator’s engineering workstation',
      description: 'VPN credentials of a contractor used from an unknown network.',
      tlp: 'TLP_RED',
      classification: { rsitClass: 'intrusions', rsitType: 'privileged-account-compromise' },
      sectors: ['energy'],
      jurisdictions: ['AT'],
      observables: [{ type: 'ipv6', value: '2001:DB8:0:0:8:800:200C:417A' }],
      awareAt: hoursAgo(30),
    },
    'demo-report-4-v1',
  );

  const incidentId = (ransomware['incident'] as { id?: string } | undefined)?.id;
  if (incidentId) {
    await post(`/v1/incidents/${incidentId}:assignAgency`, coordinatorToken, { agencyId: 'lka-bayern' });
    await post(`/v1/incidents/${incidentId}:updateSeverity`, coordinatorToken, {
      severityInputs: {
        functionalImpact: 'significant-critical',
        observedActivity: 'effect',
        location: 'critical-system-management',
        actor: 'organised-crime',
        informationImpact: 'destruction-non-critical',
        recoverability: 'extended',
        crossSectorDependency: 'medium',
        potentialImpact: 'high',
      },
    });
  }
  const listed = await fetchWhenSettled(`${baseUrl}/v1/incidents?pageSize=100`, {
    headers: { authorization: `Bearer ${coordinatorToken}` },
  });
  const { incidents = [] } = (await listed.json()) as { incidents?: { id: string; title: string }[] };
  // A replayed report may not name its incident again: find it by its title then.
  const byTitle = (prefix: string) => incidents.find((i) => i.title.startsWith(prefix))?.id;
  const victimCases = await seedVictims(post, issuer, coordinatorToken, {
    outage: incidentId ?? byTitle('Ransomware encrypts'),
    phishing: (phishing['incident'] as { id?: string } | undefined)?.id ?? byTitle('Phishing wave'),
  });
  return {
    incidents: incidents.length,
    coordinatorToken,
    region,
    assessedIncidentId: incidentId ?? '',
    victimCases,
  };
}

/**
 * Victims of the demo's incidents: support organisations in Bavaria, Germany and France, a
 * home-dialysis patient cut off by the water utility's outage (urgent), and two customers of
 * the phishing wave, one who paid yesterday (a bank recall is still possible) and one who
 * disclosed a risk of self-harm (routed to the crisis line at once). Invented people; fixed
 * idempotency keys, so seeding again changes nothing.
 */
async function seedVictims(
  post: (path: string, bearer: string, body: unknown, key?: string) => Promise<Record<string, unknown>>,
  issuer: DevIssuer,
  coordinatorToken: string,
  incidents: { readonly outage: string | undefined; readonly phishing: string | undefined },
): Promise<number> {
  const organisations = [
    [
      'weisser-ring-by',
      'Opferhilfe Bayern',
      ['DE-BY'],
      ['de', 'en', 'tr'],
      [
        'NEED_KIND_FINANCIAL_LOSS',
        'NEED_KIND_IDENTITY_THEFT',
        'NEED_KIND_PSYCHOLOGICAL_DISTRESS',
        'NEED_KIND_SERVICE_LOSS',
      ],
      false,
    ],
    [
      'krisentelefon-de',
      'Krisentelefon Deutschland',
      ['DE'],
      ['de', 'en'],
      ['NEED_KIND_PSYCHOLOGICAL_DISTRESS'],
      true,
    ],
    [
      'aide-victimes-fr',
      'Aide aux victimes France',
      ['FR'],
      ['fr', 'en'],
      ['NEED_KIND_FINANCIAL_LOSS', 'NEED_KIND_ACCOUNT_TAKEOVER', 'NEED_KIND_PSYCHOLOGICAL_DISTRESS'],
      true,
    ],
  ] as const;
  for (const [id, name, jurisdictions, languages, needsCovered, crisisCapable] of organisations) {
    await post('/v1/support-organisations', coordinatorToken, {
      organisation: {
        id,
        name,
        jurisdictions,
        languages,
        needsCovered,
        crisisCapable,
        capacity: 25,
        accepting: true,
      },
    });
  }
  const officer = (agencyId: string) =>
    issuer.mint({
      subject: `${agencyId}-officer`,
      roles: ['victim_officer'],
      agencyId,
      clearance: 'AMBER',
      ttlSeconds: 8 * 3600,
    });
  const consents = (...purposes: string[]) =>
    purposes.map((purpose) => ({ purpose, granted: true, wordingVersion: 'demo-2026-01' }));
  // Midnight (UTC) before last: the same request all day, so re-seeding replays it.
  const yesterday = new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000 - 86_400_000).toISOString();
  const cases: [string, string, Record<string, unknown>][] = [];
  if (incidents.outage) {
    cases.push([
      'vs-bayern',
      'demo-victim-1',
      {
        incidentIds: [incidents.outage],
        jurisdiction: 'DE-BY',
        language: 'de',
        victim: {
          kind: 'VICTIM_KIND_PERSON',
          displayName: 'Herr M. (Demo)',
          phone: '+49 151 00000001',
          preferredChannel: 'CONTACT_CHANNEL_PHONE',
        },
        needs: [
          { serviceLoss: { service: 'ESSENTIAL_SERVICE_WATER', vital: true } },
          { psychologicalDistress: { instrument: 'SCREENING_INSTRUMENT_PHQ4', score: 7 } },
        ],
        consents: consents('CONSENT_PURPOSE_CONTACT', 'CONSENT_PURPOSE_SHARE_SUPPORT'),
      },
    ]);
  }
  if (incidents.phishing) {
    cases.push(
      [
        'fr-aide-victimes',
        'demo-victim-2',
        {
          incidentIds: [incidents.phishing],
          jurisdiction: 'FR',
          language: 'fr',
          victim: {
            kind: 'VICTIM_KIND_PERSON',
            displayName: 'Mme L. (démo)',
            email: 'demo.victim2@example.invalid',
            preferredChannel: 'CONTACT_CHANNEL_EMAIL',
          },
          needs: [
            {
              financialLoss: {
                amountMinor: '245000',
                currency: 'EUR',
                paymentMethod: 'PAYMENT_METHOD_INSTANT_TRANSFER',
                paidAt: yesterday,
              },
            },
            { accountTakeover: { accounts: ['ACCOUNT_KIND_BANKING'], lockedOut: true } },
          ],
          consents: consents('CONSENT_PURPOSE_CONTACT', 'CONSENT_PURPOSE_SHARE_SUPPORT'),
        },
      ],
      [
        'fr-aide-victimes',
        'demo-victim-3',
        {
          incidentIds: [incidents.phishing],
          jurisdiction: 'FR',
          language: 'fr',
          victim: { kind: 'VICTIM_KIND_PERSON', displayName: 'M. R. (démo)' },
          needs: [{ psychologicalDistress: { instrument: 'SCREENING_INSTRUMENT_K10', score: 34 } }],
          riskFlags: ['RISK_FLAG_SELF_HARM'],
          consents: consents('CONSENT_PURPOSE_SHARE_SUPPORT'),
        },
      ],
    );
  }
  let opened = 0;
  for (const [agency, key, newCase] of cases) {
    const result = await post('/v1/victim-cases', await officer(agency), { case: newCase }, key);
    if (result['case']) opened += 1;
  }
  return opened;
}
