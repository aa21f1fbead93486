/**
 * Lifecycle risk: which rules could still expire or archive an in-use digest despite its protective tag,
 * and the shield rule that fixes it.
 *
 * Sources quoted next to each behaviour:
 * - P: https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_parameters.html
 * - E: https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html (evaluation rules)
 * - Q: https://docs.aws.amazon.com/AmazonECR/latest/userguide/service-quotas.html
 */
import { describe, expect, it } from 'vitest';
import {
  MAX_LIFECYCLE_POLICY_LENGTH,
  MAX_LIFECYCLE_RULES,
  SHIELD_COUNT_NUMBER,
  evaluateLifecyclePolicy,
  parseLifecyclePolicy,
  patternCanMatchProtectiveTag,
  patternMatchesTag,
  ruleMatchesTags,
  shieldRuleFor,
  withShieldRule,
  type InUseImage,
  type LifecyclePolicy,
  type LifecycleRule,
} from '../../../lambda/core/lifecycle';
import { assessLifecycleRisk, installShieldRule } from '../../../lambda/core/reconcile';
import type { LifecyclePolicyPort, PreviewOutcome } from '../../../lambda/core/ports';
import { protectiveTagFor } from '../../../lambda/core/protective-tag';

const PREFIX = 'digest-guard';
const d = (c: string) => `sha256:${c.repeat(64)}`;
const ptag = (digest: string) => protectiveTagFor(digest, PREFIX);
const D1 = d('a');
const D2 = d('b');

type Selection = Record<string, unknown>;
const rule = (
  rulePriority: number,
  selection: Selection,
  action: Record<string, unknown> = { type: 'expire' },
  description?: string,
) => ({
  rulePriority,
  ...(description ? { description } : {}),
  selection: { countType: 'sinceImagePushed', countUnit: 'days', countNumber: 30, ...selection },
  action,
});
const countRule = (rulePriority: number, selection: Selection, countNumber = 5) => ({
  rulePriority,
  selection: { countType: 'imageCountMoreThan', countNumber, ...selection },
  action: { type: 'expire' },
});
const policyText = (...rules: unknown[]) => JSON.stringify({ rules });
const parse = (text: string): LifecyclePolicy => {
  const result = parseLifecyclePolicy(text);
  if (!result.ok) throw new Error(result.problems.join('; '));
  return result.policy;
};
const SHIELD = shieldRuleFor(PREFIX, 1);
const onlyProtective: InUseImage = { digest: D1, tags: [ptag(D1)] };
const withUserTag: InUseImage = { digest: D2, tags: [ptag(D2), 'prod-7'] };

describe('parseLifecyclePolicy: a policy it cannot read is reported, never guessed at', () => {
  it.each<[string, string, RegExp]>([
    ['not JSON', '{rules:', /not JSON/],
    ['no rules array', '{"rule":[]}', /"rules" array/],
    // P: "you must give them each a unique value for rulePriority"
    [
      'duplicate priorities',
      policyText(rule(1, { tagStatus: 'any' }), rule(1, { tagStatus: 'untagged' })),
      /rulePriority 1 is used by 2 rules/,
    ],
    ['priority 0', policyText(rule(0, { tagStatus: 'any' })), /rulePriority: must be a positive integer/],
    // P: "If you specify tagged, then you must also specify a tagPrefixList value or a tagPatternList value."
    [
      'tagged without lists',
      policyText(rule(1, { tagStatus: 'tagged' })),
      /tagged needs a tagPatternList or a tagPrefixList/,
    ],
    // P: "If you specify untagged, then you must omit both tagPrefixList and tagPatternList."
    ['untagged with a list', policyText(rule(1, { tagStatus: 'untagged', tagPrefixList: ['v'] })), /must omit/],
    // P: "There is a maximum limit of four wildcards (*) per string."
    [
      'five wildcards',
      policyText(rule(1, { tagStatus: 'tagged', tagPatternList: ['a*b*c*d*e*f'] })),
      /more than 4 wildcards/,
    ],
    // P: countNumber "Acceptable values are positive integers (0 is not an accepted value)."
    [
      'countNumber 0',
      policyText(rule(1, { tagStatus: 'any', countNumber: 0 })),
      /countNumber: must be a positive integer/,
    ],
    // P: countUnit "an error will occur if you specify a count unit when countType is any other value"
    [
      'countUnit with imageCountMoreThan',
      policyText(rule(1, { tagStatus: 'any', countType: 'imageCountMoreThan' })),
      /countUnit: not allowed/,
    ],
    // P: targetStorageClass "Required: yes, if type is transition"
    [
      'transition without target',
      policyText(rule(1, { tagStatus: 'any' }, { type: 'transition' })),
      /transition needs "archive"/,
    ],
    // P: storageClass "When using a count type of sinceImageTransitioned, this is required, and the only supported value is archive."
    [
      'sinceImageTransitioned on standard',
      policyText(rule(1, { tagStatus: 'any', countType: 'sinceImageTransitioned' })),
      /sinceImageTransitioned needs archive/,
    ],
    [
      'an unknown selection property',
      policyText(rule(1, { tagStatus: 'any', tagExclusionList: ['x'] })),
      /unknown property "tagExclusionList"/,
    ],
    // Q: "Rules per lifecycle policy ... 50"
    [
      '51 rules',
      policyText(
        ...Array.from({ length: 51 }, (_, i) => rule(i + 1, { tagStatus: 'tagged', tagPrefixList: [`p${i}`] })),
      ),
      /at most 50/,
    ],
  ])('%s', (_name, text, problem) => {
    const result = parseLifecyclePolicy(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems.join('\n')).toMatch(problem);
  });

  it('reads a valid policy in priority order, storageClass standard when omitted', () => {
    const policy = parse(policyText(rule(20, { tagStatus: 'any' }), rule(3, { tagStatus: 'untagged' })));
    expect(policy.rules.map((r) => [r.rulePriority, r.storageClass])).toEqual([
      [3, 'standard'],
      [20, 'standard'],
    ]);
  });

  it('uses tagPatternList when both lists are given', () => {
    // P: tagPrefixList is "Only used if you specified "tagStatus": "tagged" and you aren't specifying a tagPatternList."
    const [only] = parse(
      policyText(rule(1, { tagStatus: 'tagged', tagPatternList: ['prod*'], tagPrefixList: ['dev'] })),
    ).rules;
    expect(only).toMatchObject({ tagPatternList: ['prod*'] });
    expect(only).not.toHaveProperty('tagPrefixList');
  });
});

describe('tag matching', () => {
  it.each<[string, string, boolean]>([
    // P: "if your images are tagged as prod, prod1, prod2, and so on, you would use the tag pattern list prod*"
    ['prod*', 'prod', true],
    ['prod*', 'prod1', true],
    ['prod*', 'preprod', false],
    ['*prod*', 'preprod-2', true],
    ['prod', 'prod1', false],
    ['v1.*', 'v1x2', false],
    [`${PREFIX}-sha256-*`, ptag(D1), true],
  ])('pattern %s against tag %s: %s', (pattern, tag, expected) => {
    expect(patternMatchesTag(pattern, tag)).toBe(expected);
  });

  const tagged = (lists: Partial<LifecycleRule>): LifecycleRule => ({
    rulePriority: 1,
    tagStatus: 'tagged',
    storageClass: 'standard',
    countType: 'imageCountMoreThan',
    countNumber: 1,
    action: 'expire',
    ...lists,
  });

  // E: "When using the tagPrefixList, an image is successfully matched if all of the tags in the tagPrefixList
  // value are matched against any of the image's tags." P (tagPatternList): "If you specify multiple tags, only
  // the images with all specified tags are selected."
  it.each<[string, Partial<LifecycleRule>, string[], boolean]>([
    [
      'every pattern must match some tag: both match different tags',
      { tagPatternList: ['prod*', 'v*'] },
      ['prod', 'v2'],
      true,
    ],
    ['every pattern must match some tag: one matches nothing', { tagPatternList: ['prod*', 'v*'] }, ['prod'], false],
    ['every prefix must match some tag', { tagPrefixList: ['prod', 'v'] }, ['prod-1', 'v2'], true],
    ['one prefix unmatched fails the rule', { tagPrefixList: ['prod', 'v'] }, ['prod-1'], false],
    ['a prefix list entry is literal text, not a pattern', { tagPrefixList: ['pr*'] }, ['prod'], false],
    ['an untagged image never meets a tagged rule', { tagPatternList: ['*'] }, [], false],
  ])('%s', (_name, lists, tags, expected) => {
    expect(ruleMatchesTags(tagged(lists), tags)).toBe(expected);
  });

  it.each<[string, boolean]>([
    [`${PREFIX}-sha256-*`, true],
    ['*', true],
    ['digest*', true],
    ['*-sha256-*', true],
    ['*sha256-0*', true],
    ['*sha256-z*', false], // no hex digit is z
    ['prod*', false],
    [`${PREFIX}-sha256-`, false], // needs the 64 hex characters after it
    ['other-guard-sha256-*', false],
  ])('pattern %s can match some protective tag alone: %s', (pattern, expected) => {
    expect(patternCanMatchProtectiveTag(pattern, PREFIX)).toBe(expected);
  });
});

describe('evaluateLifecyclePolicy', () => {
  const evaluate = (text: string, images: InUseImage[] = [onlyProtective, withUserTag]) =>
    evaluateLifecyclePolicy(parse(text), PREFIX, images);
  const risky = (text: string, images?: InUseImage[]) =>
    evaluate(text, images).risks.map((r) => ({
      priority: r.rulePriority,
      reach: r.reach,
      digests: r.digests,
      action: r.action,
    }));

  it.each<[string, string, ReturnType<typeof risky>]>([
    // E: "An image is expired by exactly one or zero rules." / "An image that matches the tagging requirements of
    // a rule cannot be expired by a rule with a lower priority."
    ['untagged never selects a tagged image', policyText(rule(1, { tagStatus: 'untagged' })), []],
    [
      'tagStatus any selects both, the protective tag does not help',
      policyText(rule(1, { tagStatus: 'any' })),
      [{ priority: 1, reach: 'any-image', digests: [D1, D2], action: 'expire' }],
    ],
    [
      'a user-tag rule claims only the image with that user tag',
      policyText(countRule(1, { tagStatus: 'tagged', tagPatternList: ['prod*'] })),
      [{ priority: 1, reach: 'user-tags', digests: [D2], action: 'expire' }],
    ],
    [
      'a wide pattern selects the protective tag alone',
      policyText(rule(1, { tagStatus: 'tagged', tagPatternList: ['*'] })),
      [{ priority: 1, reach: 'protective-tag-alone', digests: [D1, D2], action: 'expire' }],
    ],
    [
      'a prefix list selecting the guard prefix reaches the protective tag alone',
      policyText(rule(1, { tagStatus: 'tagged', tagPrefixList: ['digest'] })),
      [{ priority: 1, reach: 'protective-tag-alone', digests: [D1, D2], action: 'expire' }],
    ],
    [
      'a multi-pattern rule needs the user tag too',
      policyText(rule(1, { tagStatus: 'tagged', tagPatternList: [`${PREFIX}-*`, 'prod*'] })),
      [{ priority: 1, reach: 'user-tags', digests: [D2], action: 'expire' }],
    ],
    [
      'the shield on top leaves nothing to lower rules',
      policyText(SHIELD, rule(2, { tagStatus: 'tagged', tagPatternList: ['*'] }), rule(3, { tagStatus: 'any' })),
      [],
    ],
    [
      'the shield below a user rule: that rule claims the image with the user tag',
      policyText(
        countRule(1, { tagStatus: 'tagged', tagPatternList: ['prod*'] }),
        { ...SHIELD, rulePriority: 2 },
        rule(3, { tagStatus: 'any' }),
      ),
      [{ priority: 1, reach: 'user-tags', digests: [D2], action: 'expire' }],
    ],
    [
      'the shield below tagStatus-any-like wide rule: the wide rule claims both',
      policyText(rule(1, { tagStatus: 'tagged', tagPatternList: ['*'] }), { ...SHIELD, rulePriority: 2 }),
      [{ priority: 1, reach: 'protective-tag-alone', digests: [D1, D2], action: 'expire' }],
    ],
    // P: action "transition (to move images to archive storage)"; archived images cannot be pulled
    [
      'a transition to archive is a risk of its own',
      policyText(
        rule(
          1,
          { tagStatus: 'any', countType: 'sinceImagePulled' },
          { type: 'transition', targetStorageClass: 'archive' },
        ),
      ),
      [{ priority: 1, reach: 'any-image', digests: [D1, D2], action: 'transition' }],
    ],
    [
      'a latent rule that claims no in-use image yet is reported with no digest',
      policyText(
        countRule(1, { tagStatus: 'tagged', tagPatternList: ['prod*'] }),
        rule(2, { tagStatus: 'tagged', tagPatternList: ['*sha256-*'] }),
      ),
      [
        { priority: 1, reach: 'user-tags', digests: [D2], action: 'expire' },
        { priority: 2, reach: 'protective-tag-alone', digests: [D1], action: 'expire' },
      ],
    ],
    [
      'a user-tag rule that claims nothing now is not a risk',
      policyText(countRule(1, { tagStatus: 'tagged', tagPatternList: ['release-*'] })),
      [],
    ],
  ])('%s', (_name, text, expected) => {
    expect(risky(text)).toEqual(expected);
  });

  it.each<[string, string, boolean]>([
    ['shield on top', policyText(SHIELD, rule(2, { tagStatus: 'any' })), true],
    [
      'shield on top, only an untagged rule above it',
      policyText(rule(1, { tagStatus: 'untagged' }), { ...SHIELD, rulePriority: 2 }),
      true,
    ],
    ['shield absent', policyText(rule(1, { tagStatus: 'any' })), false],
    [
      'shield at a lower priority than a tagged rule',
      policyText(countRule(1, { tagStatus: 'tagged', tagPatternList: ['prod*'] }), { ...SHIELD, rulePriority: 2 }),
      false,
    ],
    [
      'shield-shaped rule keeping fewer images than carry protective tags',
      policyText(countRule(1, { tagStatus: 'tagged', tagPatternList: [`${PREFIX}-sha256-*`] }, 1)),
      false,
    ],
    [
      'shield by prefix list counts too',
      policyText(countRule(1, { tagStatus: 'tagged', tagPrefixList: [`${PREFIX}-sha256-`] }, 9999)),
      true,
    ],
  ])('shielded: %s → %s', (_name, text, expected) => {
    expect(evaluate(text).shielded).toBe(expected);
  });

  it('a shield keeping too few images is itself the risk for the protected images, with the counts in why', () => {
    const result = evaluate(
      policyText(countRule(1, { tagStatus: 'tagged', tagPatternList: [`${PREFIX}-sha256-*`] }, 1)),
    );
    expect(result.risks).toHaveLength(1);
    expect(result.risks[0]).toMatchObject({ rulePriority: 1, digests: [D1, D2] });
    expect(result.risks[0]!.why).toMatch(/keeps only the newest 1 of the 2 protected images/);
  });

  it('an archived in-use image meets only archive rules, which the shield does not cover', () => {
    // P: storageClass "The rule will only select images of this storage class."
    const archived: InUseImage = { digest: D1, tags: [ptag(D1)], archived: true };
    const text = policyText(
      SHIELD,
      rule(2, { tagStatus: 'any', storageClass: 'archive', countType: 'sinceImageTransitioned' }),
    );
    expect(risky(text, [archived])).toEqual([
      { priority: 2, reach: 'archived-image', digests: [D1], action: 'expire' },
    ]);
  });

  it('names the rule, what it does and when in why', () => {
    const [risk] = evaluate(
      policyText(rule(7, { tagStatus: 'any', countNumber: 14 }, { type: 'expire' }, 'old images')),
    ).risks;
    expect(risk).toMatchObject({
      rulePriority: 7,
      description: 'old images',
      action: 'expire',
      evidence: 'evaluation',
    });
    expect(risk!.why).toBe(
      'Rule 7 selects every image (tagStatus any), protective tag or not; it acts once an image was pushed more than 14 days ago, and deletes them.',
    );
  });
});

describe('withShieldRule', () => {
  const rulesOf = (text: string) => (JSON.parse(text) as { rules: Record<string, unknown>[] }).rules;

  it('puts the shield at priority 1 and keeps every rule untouched when 1 is free', () => {
    const existing = [
      rule(10, { tagStatus: 'tagged', tagPatternList: ['prod*'] }, { type: 'expire' }, 'prod'),
      rule(20, { tagStatus: 'any' }),
    ];
    const result = withShieldRule(policyText(...existing), PREFIX);
    expect(result).toMatchObject({ outcome: 'inserted', shieldPriority: 1, renumbered: false });
    if (result.outcome !== 'inserted') return;
    expect(rulesOf(result.policyText)).toEqual([SHIELD, ...existing]);
    expect(parseLifecyclePolicy(result.policyText).ok).toBe(true);
  });

  it('moves every priority up by one when 1 is taken, keeping order and every other field', () => {
    // P: rulePriority "Sets the order in which rules are applied, lowest to highest" and "Values don't need to be
    // sequential across rules in a policy": adding one to every priority keeps the order.
    const existing = [
      rule(1, { tagStatus: 'tagged', tagPatternList: ['prod*'] }),
      rule(2, { tagStatus: 'untagged' }),
      rule(9, { tagStatus: 'any' }),
    ];
    const result = withShieldRule(policyText(...existing), PREFIX);
    expect(result).toMatchObject({ outcome: 'inserted', renumbered: true });
    if (result.outcome !== 'inserted') return;
    expect(rulesOf(result.policyText)).toEqual([
      SHIELD,
      ...existing.map((r) => ({ ...r, rulePriority: r.rulePriority + 1 })),
    ]);
  });

  it('gives a policy that is shielded, and is idempotent: the same text comes back', () => {
    const first = withShieldRule(policyText(rule(1, { tagStatus: 'any' })), PREFIX);
    if (first.outcome !== 'inserted') throw new Error(first.outcome);
    expect(evaluateLifecyclePolicy(parse(first.policyText), PREFIX, [onlyProtective, withUserTag])).toMatchObject({
      shielded: true,
      risks: [],
    });
    expect(withShieldRule(first.policyText, PREFIX)).toEqual({
      outcome: 'unchanged',
      policyText: first.policyText,
      shieldPriority: 1,
    });
  });

  it.each<[string, string, RegExp]>([
    ['an unreadable policy', '{"rules":[{}]}', /cannot be read/],
    // E: "The set of rules must contain a unique set of tag prefixes."
    [
      'a rule of yours already selects the protective tags (below the top)',
      policyText(countRule(1, { tagStatus: 'tagged', tagPatternList: ['prod*'] }), { ...SHIELD, rulePriority: 2 }),
      /rule 2 already selects the protective tags/,
    ],
    [
      'a protective-tag rule on top keeping too few',
      policyText(countRule(1, { tagStatus: 'tagged', tagPatternList: [`${PREFIX}-sha256-*`] }, 10)),
      /rule 1 already selects/,
    ],
    // Q: "Rules per lifecycle policy ... 50"
    [
      `a policy at the ${MAX_LIFECYCLE_RULES}-rule quota`,
      policyText(
        ...Array.from({ length: 50 }, (_, i) => rule(i + 1, { tagStatus: 'tagged', tagPrefixList: [`p${i}`] })),
      ),
      /at most 50/,
    ],
    // Q: "Lifecycle policy length ... 30,720"
    [
      'a policy that would exceed the length quota',
      policyText(rule(1, { tagStatus: 'any' }, { type: 'expire' }, 'x'.repeat(MAX_LIFECYCLE_POLICY_LENGTH - 150))),
      /at most 30720/,
    ],
  ])('refuses %s', (_name, text, reason) => {
    const result = withShieldRule(text, PREFIX);
    expect(result.outcome).toBe('refused');
    if (result.outcome === 'refused') expect(result.reason).toMatch(reason);
  });

  it('uses the documented shield shape', () => {
    expect(SHIELD).toEqual({
      rulePriority: 1,
      description: expect.any(String),
      selection: {
        tagStatus: 'tagged',
        tagPatternList: [`${PREFIX}-sha256-*`],
        countType: 'imageCountMoreThan',
        countNumber: SHIELD_COUNT_NUMBER,
      },
      action: { type: 'expire' },
    });
  });
});

class FakeLifecyclePort implements LifecyclePolicyPort {
  puts: [string, string][] = [];
  previews = 0;
  constructor(
    private readonly text: string | undefined,
    private readonly preview: PreviewOutcome = { outcome: 'unavailable', reason: 'not asked' },
  ) {}
  async getLifecyclePolicy() {
    return this.text === undefined ? ({ found: false } as const) : ({ found: true, text: this.text } as const);
  }
  async previewLifecyclePolicy() {
    this.previews += 1;
    return this.preview;
  }
  async putLifecyclePolicy(repository: string, text: string) {
    this.puts.push([repository, text]);
    return { outcome: 'put' } as const;
  }
}

describe('assessLifecycleRisk', () => {
  const ANY = policyText(rule(5, { tagStatus: 'any' }));

  it('a repository without a policy has no risk and nothing is previewed', async () => {
    const port = new FakeLifecyclePort(undefined);
    expect(await assessLifecycleRisk(port, 'app', [onlyProtective], PREFIX, { usePreview: true })).toEqual({
      repository: 'app',
      policy: 'none',
      problems: [],
      shielded: false,
      risks: [],
      preview: 'not-run',
    });
    expect(port.previews).toBe(0);
  });

  it('reports an unreadable policy with its problems instead of guessing', async () => {
    const findings = await assessLifecycleRisk(new FakeLifecyclePort('{"rules":5}'), 'app', [onlyProtective], PREFIX);
    expect(findings).toMatchObject({ policy: 'unreadable', risks: [], shielded: false });
    expect(findings.problems[0]).toMatch(/"rules" array/);
  });

  it('gives the fix as JSON to paste: the shield rule and the whole policy with it', async () => {
    const findings = await assessLifecycleRisk(new FakeLifecyclePort(ANY), 'app', [onlyProtective], PREFIX);
    expect(findings.risks.map((r) => r.rulePriority)).toEqual([5]);
    expect(JSON.parse(findings.fix!.ruleJson)).toEqual(SHIELD);
    expect(JSON.parse(findings.fix!.policyText!).rules).toEqual([SHIELD, rule(5, { tagStatus: 'any' })]);
  });

  it('never changes the policy while assessing', async () => {
    const port = new FakeLifecyclePort(ANY);
    await assessLifecycleRisk(port, 'app', [onlyProtective], PREFIX, { usePreview: true });
    expect(port.puts).toEqual([]);
  });

  it('marks a risk confirmed by the preview of the same policy text', async () => {
    const port = new FakeLifecyclePort(ANY, {
      outcome: 'complete',
      policyText: ANY,
      images: [{ digest: D1, tags: [ptag(D1)], action: 'expire', appliedRulePriority: 5 }],
    });
    const findings = await assessLifecycleRisk(port, 'app', [onlyProtective], PREFIX, { usePreview: true });
    expect(findings.preview).toBe('confirmed');
    expect(findings.risks).toMatchObject([{ rulePriority: 5, digests: [D1], evidence: 'preview' }]);
  });

  it('adds what only the preview saw, for an unreadable policy too', async () => {
    const odd =
      '{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1,"newThing":1},"action":{"type":"expire"}}]}';
    const port = new FakeLifecyclePort(odd, {
      outcome: 'complete',
      policyText: odd,
      images: [
        { digest: D1, tags: [], action: 'expire', appliedRulePriority: 1 },
        { digest: d('f'), tags: [], action: 'expire', appliedRulePriority: 1 },
      ],
    });
    const findings = await assessLifecycleRisk(port, 'app', [onlyProtective], PREFIX, { usePreview: true });
    expect(findings.policy).toBe('unreadable');
    expect(findings.risks).toMatchObject([{ rulePriority: 1, digests: [D1], evidence: 'preview' }]);
  });

  it('ignores a preview of another policy text (someone else started it)', async () => {
    const port = new FakeLifecyclePort(ANY, {
      outcome: 'complete',
      policyText: policyText(rule(1, { tagStatus: 'untagged' })),
      images: [],
    });
    const findings = await assessLifecycleRisk(port, 'app', [onlyProtective], PREFIX, { usePreview: true });
    expect(findings.preview).toMatch(/another policy text/);
    expect(findings.risks).toMatchObject([{ rulePriority: 5, evidence: 'evaluation' }]);
  });

  it('a shielded policy needs no fix', async () => {
    const findings = await assessLifecycleRisk(
      new FakeLifecyclePort(policyText(SHIELD, rule(2, { tagStatus: 'any' }))),
      'app',
      [onlyProtective, withUserTag],
      PREFIX,
    );
    expect(findings).toMatchObject({ shielded: true, risks: [] });
    expect(findings.fix).toBeUndefined();
  });
});

describe('installShieldRule (opt-in)', () => {
  it('puts the policy with the shield and every existing rule', async () => {
    const port = new FakeLifecyclePort(policyText(rule(1, { tagStatus: 'any' })));
    const outcome = await installShieldRule(port, 'app', PREFIX);
    expect(outcome).toMatchObject({ outcome: 'installed', renumbered: true });
    expect(port.puts).toHaveLength(1);
    expect(rulesOfPut(port)).toEqual([SHIELD, rule(2, { tagStatus: 'any' })]);
  });

  it('puts nothing when the shield is already on top, or when there is no policy', async () => {
    const shielded = new FakeLifecyclePort(policyText(SHIELD));
    expect(await installShieldRule(shielded, 'app', PREFIX)).toEqual({ outcome: 'unchanged', shieldPriority: 1 });
    const none = new FakeLifecyclePort(undefined);
    expect(await installShieldRule(none, 'app', PREFIX)).toEqual({ outcome: 'no-policy' });
    expect([...shielded.puts, ...none.puts]).toEqual([]);
  });
});

function rulesOfPut(port: FakeLifecyclePort) {
  return (JSON.parse(port.puts[0]![1]) as { rules: unknown[] }).rules;
}
