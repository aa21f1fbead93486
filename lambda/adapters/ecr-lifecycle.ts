/**
 * ECR lifecycle adapter: reads a repository's lifecycle policy, previews what the live policy would expire or
 * archive, and (only when asked, through `installShieldRule`) puts a new policy text. Every lifecycle SDK call
 * of the guard is here; the decisions are in `lambda/core/lifecycle/`.
 *
 * Errors per operation: botocore/data/ecr/2015-09-21/service-2.json, operations GetLifecyclePolicy
 * (LifecyclePolicyNotFoundException), StartLifecyclePolicyPreview (LifecyclePolicyNotFoundException,
 * LifecyclePolicyPreviewInProgressException), GetLifecyclePolicyPreview
 * (LifecyclePolicyPreviewNotFoundException), PutLifecyclePolicy (InvalidParameterException); all of them
 * RepositoryNotFoundException. Anything else is rethrown so the reconcile's retry sees it.
 */
import {
  GetLifecyclePolicyCommand,
  GetLifecyclePolicyPreviewCommand,
  InvalidParameterException,
  LifecyclePolicyNotFoundException,
  LifecyclePolicyPreviewInProgressException,
  LifecyclePolicyPreviewNotFoundException,
  PutLifecyclePolicyCommand,
  RepositoryNotFoundException,
  StartLifecyclePolicyPreviewCommand,
  ValidationException,
  type ECRClient,
  type GetLifecyclePolicyPreviewResponse,
} from '@aws-sdk/client-ecr';
import { RepositoryNotFoundError } from '../core/errors';
import type { LifecyclePolicyPort, LivePolicy, PreviewOutcome, PreviewedImage, PutPolicyOutcome } from '../core/ports';
import { defaultEcrClient } from './clients';
import { UnexpectedEcrAnswerError } from './ecr';

/** `GetLifecyclePolicyPreview` page size: "This value can be between 1 and 100" (maxResults). */
export const PREVIEW_PAGE_SIZE = 100;

export interface EcrLifecycleOptions {
  /** how many times to ask for a preview that is still IN_PROGRESS before giving up on it; default 10 */
  readonly maxPolls?: number;
  /** wait between two polls; default 3000 ms */
  readonly pollIntervalMs?: number;
  /** most result pages read from one preview; default 100 (10,000 tagged images) */
  readonly maxPages?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class EcrLifecycleAdapter implements LifecyclePolicyPort {
  private readonly maxPolls: number;
  private readonly pollIntervalMs: number;
  private readonly maxPages: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly client: ECRClient = defaultEcrClient(),
    options: EcrLifecycleOptions = {},
  ) {
    this.maxPolls = options.maxPolls ?? 10;
    this.pollIntervalMs = options.pollIntervalMs ?? 3000;
    this.maxPages = options.maxPages ?? 100;
    this.sleep = options.sleep ?? wait;
  }

  async getLifecyclePolicy(repository: string): Promise<LivePolicy> {
    try {
      const answer = await this.client.send(new GetLifecyclePolicyCommand({ repositoryName: repository }));
      if (answer.lifecyclePolicyText === undefined)
        throw new UnexpectedEcrAnswerError(`GetLifecyclePolicy for ${repository} returned no lifecyclePolicyText`);
      return { found: true, text: answer.lifecyclePolicyText };
    } catch (error) {
      if (error instanceof LifecyclePolicyNotFoundException) return { found: false };
      if (error instanceof RepositoryNotFoundException) throw new RepositoryNotFoundError(repository, { cause: error });
      throw error;
    }
  }

  /**
   * Starts a preview of the live policy (no `lifecyclePolicyText`: "If you do not specify a policy, the current
   * policy for the repository is used", StartLifecyclePolicyPreviewRequest) and polls it a bounded number of
   * times. A preview already in progress (`LifecyclePolicyPreviewInProgressException`) is waited for too: the
   * caller compares the text it was run on with the live one. Only tagged images are asked for (filter
   * TAGGED): in-use digests the guard protects carry a protective tag, and untagged images are usually most
   * of what a policy expires.
   */
  async previewLifecyclePolicy(repository: string): Promise<PreviewOutcome> {
    try {
      await this.client.send(new StartLifecyclePolicyPreviewCommand({ repositoryName: repository }));
    } catch (error) {
      if (error instanceof LifecyclePolicyNotFoundException)
        return { outcome: 'unavailable', reason: 'the repository has no lifecycle policy' };
      if (error instanceof RepositoryNotFoundException) throw new RepositoryNotFoundError(repository, { cause: error });
      if (!(error instanceof LifecyclePolicyPreviewInProgressException)) throw error;
    }

    let page: GetLifecyclePolicyPreviewResponse | undefined;
    for (let poll = 1; ; poll++) {
      page = await this.getPreviewPage(repository, undefined);
      if (!page) return { outcome: 'unavailable', reason: 'ECR holds no preview for the repository' };
      if (page.status !== 'IN_PROGRESS') break;
      if (poll >= this.maxPolls)
        return { outcome: 'unavailable', reason: `the preview was still IN_PROGRESS after ${this.maxPolls} polls` };
      await this.sleep(this.pollIntervalMs);
    }
    if (page.status !== 'COMPLETE')
      return { outcome: 'unavailable', reason: `the preview ended ${page.status ?? 'without a status'}` };
    if (page.lifecyclePolicyText === undefined)
      throw new UnexpectedEcrAnswerError(`GetLifecyclePolicyPreview for ${repository} returned no lifecyclePolicyText`);

    const policyText = page.lifecyclePolicyText;
    const images: PreviewedImage[] = [];
    for (let pages = 1; ; pages++) {
      images.push(...previewedImages(page));
      if (!page.nextToken) break;
      if (pages >= this.maxPages)
        return {
          outcome: 'unavailable',
          reason: `the preview lists more than ${this.maxPages * PREVIEW_PAGE_SIZE} tagged images`,
        };
      const next = await this.getPreviewPage(repository, page.nextToken);
      if (!next) return { outcome: 'unavailable', reason: 'the preview disappeared while it was read' };
      page = next;
    }
    return { outcome: 'complete', policyText, images };
  }

  /**
   * Replaces the repository's lifecycle policy. ECR validates the text: a refusal
   * (`InvalidParameterException`, `ValidationException`) comes back as `rejected` with ECR's message.
   */
  async putLifecyclePolicy(repository: string, policyText: string): Promise<PutPolicyOutcome> {
    try {
      await this.client.send(
        new PutLifecyclePolicyCommand({ repositoryName: repository, lifecyclePolicyText: policyText }),
      );
      return { outcome: 'put' };
    } catch (error) {
      if (error instanceof InvalidParameterException || error instanceof ValidationException)
        return { outcome: 'rejected', reason: error.message };
      if (error instanceof RepositoryNotFoundException) throw new RepositoryNotFoundError(repository, { cause: error });
      throw error;
    }
  }

  private async getPreviewPage(
    repository: string,
    nextToken: string | undefined,
  ): Promise<GetLifecyclePolicyPreviewResponse | undefined> {
    try {
      return await this.client.send(
        new GetLifecyclePolicyPreviewCommand({
          repositoryName: repository,
          maxResults: PREVIEW_PAGE_SIZE,
          filter: { tagStatus: 'TAGGED' },
          ...(nextToken ? { nextToken } : {}),
        }),
      );
    } catch (error) {
      if (error instanceof LifecyclePolicyPreviewNotFoundException) return undefined;
      if (error instanceof RepositoryNotFoundException) throw new RepositoryNotFoundError(repository, { cause: error });
      throw error;
    }
  }
}

/** Preview results use the API's enum (`EXPIRE`, `TRANSITION`); the core uses the policy's words. */
function previewedImages(page: GetLifecyclePolicyPreviewResponse): PreviewedImage[] {
  const images: PreviewedImage[] = [];
  for (const result of page.previewResults ?? []) {
    if (!result.imageDigest) continue;
    const type = result.action?.type;
    if (type !== 'EXPIRE' && type !== 'TRANSITION') {
      throw new UnexpectedEcrAnswerError(
        `a lifecycle preview result for ${result.imageDigest} has action ${String(type)}`,
      );
    }
    images.push({
      digest: result.imageDigest,
      tags: result.imageTags ?? [],
      action: type === 'EXPIRE' ? 'expire' : 'transition',
      ...(result.appliedRulePriority !== undefined ? { appliedRulePriority: result.appliedRulePriority } : {}),
    });
  }
  return images;
}
