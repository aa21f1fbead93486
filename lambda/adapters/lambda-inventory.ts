/**
 * Lambda inventory adapter: the image digests that Lambda functions packaged as container images run in this
 * account and region. "If the corresponding container image no longer exists on Amazon ECR … the function
 * enters the Failed state." See: https://docs.aws.amazon.com/lambda/latest/dg/invocation-images.html
 * Lambda resolves the tag when the code is set; `GetFunction` → `Code.ResolvedImageUri` holds that digest
 * (`FunctionCodeLocation` in botocore/data/lambda/2015-03-31/service-2.json). `ListFunctions` carries no
 * `Code`, so every image function costs one `GetFunction`.
 *
 * What is read: `$LATEST` of every image function, and every published version an alias routes traffic to:
 * its `FunctionVersion` and, for a weighted alias, the versions in `RoutingConfig.AdditionalVersionWeights`
 * (their share of the alias's traffic runs them too).
 * See: https://docs.aws.amazon.com/lambda/latest/dg/configuration-aliases.html
 * Published versions that no alias names are not read (see the report of the change that added this file).
 *
 * Requests, for F functions of which I are image functions (zip functions cost nothing beyond the list):
 *
 *   ⌈F/50⌉ ListFunctions                        (at least 1; "a maximum of 50 items in each response")
 *   + per image function: 1 GetFunction ($LATEST) + 1 ListAliases page (more only past the page size)
 *     + 1 GetFunction per DISTINCT published version its aliases route to (an alias on `$LATEST` and a
 *       second alias on an already-read version cost nothing)
 *
 * `countLambdaInventoryRequests` computes it. Every request goes through one limiter (`concurrency` in
 * flight). The control-plane quota is 15 requests per second per API (ListFunctions, ListAliases) and 100 per
 * second for GetFunction, per account and region, shared with every other caller; the clients' adaptive retry
 * mode slows down when throttled. See: https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
 */
import {
  GetFunctionCommand,
  ListAliasesCommand,
  ListFunctionsCommand,
  ResourceNotFoundException,
  type AliasConfiguration,
  type FunctionConfiguration,
  type GetFunctionResponse,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { createLimiter, type Limiter } from '../core/concurrency';
import { InventoryCollector } from '../core/inventory';
import { parseImageUri } from '../core/image-uri';
import type { InventoryPort } from '../core/ports';
import type { Consumer, EcrImageRef, Inventory, InventoryGap } from '../core/types';
import { defaultLambdaClient } from './clients';

/** ListFunctions: "returns a maximum of 50 items in each response, even if you set the number higher"
 * (ListFunctionsRequest.MaxItems, botocore/data/lambda/2015-03-31/service-2.json). */
export const LIST_FUNCTIONS_PAGE_SIZE = 50;
/** ListAliases documents no per-page cap ("Limit the number of aliases returned."); MaxListItems allows
 * 1–10000. Ask for the most; the adapter still follows `NextMarker` whatever the service returns. */
export const LIST_ALIASES_MAX_ITEMS = 10_000;

export const DEFAULT_LAMBDA_INVENTORY_CONCURRENCY = 4;

export interface LambdaInventoryOptions {
  /** the account whose registry counts; images of other registries are out of scope */
  readonly accountId: string;
  readonly region: string;
  /** most Lambda requests in flight at any moment, across the whole inventory
   * @default 4 */
  readonly concurrency?: number;
}

/** The counts the request count depends on, per function. */
export interface LambdaAccountShape {
  /** zip functions: listed, never read */
  readonly zipFunctions: number;
  /** for each image function, the number of distinct published versions its aliases route to */
  readonly aliasedVersionsPerImageFunction: readonly number[];
}

/** The requests one inventory of an account of this shape makes (see the module comment), when every
 * function's aliases fit in one ListAliases page. */
export function countLambdaInventoryRequests(shape: LambdaAccountShape): number {
  const images = shape.aliasedVersionsPerImageFunction;
  const functions = shape.zipFunctions + images.length;
  const listPages = Math.max(1, Math.ceil(functions / LIST_FUNCTIONS_PAGE_SIZE));
  return listPages + images.reduce((sum, versions) => sum + 2 + versions, 0);
}

export class LambdaInventoryAdapter implements InventoryPort {
  private readonly accountId: string;
  private readonly region: string;
  private readonly concurrency: number;

  constructor(
    options: LambdaInventoryOptions,
    private readonly client: LambdaClient = defaultLambdaClient(),
  ) {
    const concurrency = options.concurrency ?? DEFAULT_LAMBDA_INVENTORY_CONCURRENCY;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`LambdaInventoryAdapter: concurrency must be a positive integer, got ${concurrency}`);
    }
    if (!/^\d{12}$/.test(options.accountId)) {
      throw new RangeError(`LambdaInventoryAdapter: accountId must be 12 digits, got "${options.accountId}"`);
    }
    this.accountId = options.accountId;
    this.region = options.region;
    this.concurrency = concurrency;
  }

  async takeInventory(): Promise<Inventory> {
    const takenAt = new Date();
    const run = new LambdaInventoryRun(this.client, createLimiter(this.concurrency), this.accountId, this.region);
    await run.collect();
    return { takenAt, byRepository: run.collector.byRepository(), gaps: run.gaps };
  }

  /**
   * One function version alone, for a watched API call that names it: one GetFunction, recorded under the name the
   * full inventory gives it (the function ARN for `$LATEST`, the alias ARN for an alias; a published version, which
   * the full inventory reads only through an alias, under its own ARN until a complete list removes it).
   */
  async takeFunctionInventory(target: {
    readonly functionName: string;
    readonly version?: string;
    readonly alias?: string;
  }): Promise<Inventory> {
    const takenAt = new Date();
    const run = new LambdaInventoryRun(this.client, createLimiter(this.concurrency), this.accountId, this.region);
    await run.collectFunction(target);
    return { takenAt, byRepository: run.collector.byRepository(), gaps: run.gaps };
  }
}

/** The state of one inventory: what was seen so far and what could not be seen. */
class LambdaInventoryRun {
  /** Only a gap whose image is known names its repository; any other could hide a digest of any repository. */
  readonly gaps: InventoryGap[] = [];
  readonly collector = new InventoryCollector();

  constructor(
    private readonly client: LambdaClient,
    private readonly limit: Limiter,
    private readonly accountId: string,
    private readonly region: string,
  ) {}

  async collect(): Promise<void> {
    // Each page's image functions are read while the next page is listed; the limiter bounds the total.
    const scans: Promise<void>[] = [];
    let marker: string | undefined;
    do {
      const page = await this.limit(() =>
        this.client.send(
          new ListFunctionsCommand({ MaxItems: LIST_FUNCTIONS_PAGE_SIZE, ...(marker ? { Marker: marker } : {}) }),
        ),
      );
      for (const fn of page.Functions ?? []) {
        if (fn.PackageType === 'Image' && fn.FunctionName) scans.push(this.scanFunction(fn));
      }
      marker = page.NextMarker;
    } while (marker);
    await Promise.all(scans);
  }

  async collectFunction(target: {
    readonly functionName: string;
    readonly version?: string;
    readonly alias?: string;
  }): Promise<void> {
    const qualifier = target.alias ?? target.version;
    let answer: GetFunctionResponse;
    try {
      answer = await this.getFunction(target.functionName, qualifier);
    } catch (error) {
      // Deleted since the call: it runs nothing, and the next complete list removes what it ran.
      if (error instanceof ResourceNotFoundException) return;
      throw error;
    }
    if (answer.Configuration?.PackageType !== 'Image') return;
    const functionArn = answer.Configuration.FunctionArn ?? target.functionName;
    // `arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]`: the alias ARN is the unqualified one + alias.
    const arn = target.alias ? `${functionArn.split(':').slice(0, 7).join(':')}:${target.alias}` : functionArn;
    const label = `Lambda function ${answer.Configuration.FunctionName ?? target.functionName}${
      qualifier ? ` (${target.alias ? 'alias' : 'version'} ${qualifier})` : ''
    }`;
    this.record(answer, { kind: 'lambda-function', arn }, label);
  }

  private async scanFunction(fn: FunctionConfiguration): Promise<void> {
    const name = fn.FunctionName!;
    const id = fn.FunctionArn ?? name;
    let latest: GetFunctionResponse;
    let aliases: AliasConfiguration[];
    try {
      [latest, aliases] = await Promise.all([this.getFunction(id), this.listAliases(id)]);
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
      this.gaps.push({ reason: `Lambda function ${name} was deleted while the inventory was taken: skipped` });
      return;
    }
    const functionArn = latest.Configuration?.FunctionArn ?? id;
    this.record(latest, { kind: 'lambda-function', arn: functionArn }, `Lambda function ${name}`);

    // Published versions an alias routes to, each read once, with the aliases that route to it.
    const aliasesByVersion = new Map<string, AliasConfiguration[]>();
    for (const alias of aliases) {
      const versions = [alias.FunctionVersion, ...Object.keys(alias.RoutingConfig?.AdditionalVersionWeights ?? {})];
      for (const version of new Set(versions)) {
        if (!version) continue;
        aliasesByVersion.set(version, [...(aliasesByVersion.get(version) ?? []), alias]);
      }
    }
    const aliasArn = (alias: AliasConfiguration): string => alias.AliasArn ?? `${functionArn}:${alias.Name ?? '?'}`;
    await Promise.all(
      [...aliasesByVersion].map(async ([version, routedBy]) => {
        let answer: GetFunctionResponse;
        if (version === '$LATEST') {
          answer = latest; // already read: an alias on $LATEST runs the same code
        } else {
          try {
            answer = await this.getFunction(id, version);
          } catch (error) {
            if (!(error instanceof ResourceNotFoundException)) throw error;
            this.gaps.push({
              reason:
                `Lambda function ${name} version ${version} (alias ${routedBy.map((a) => a.Name ?? '?').join(', ')}) ` +
                'was deleted while the inventory was taken: skipped',
            });
            return;
          }
        }
        for (const alias of routedBy) {
          this.record(
            answer,
            { kind: 'lambda-function', arn: aliasArn(alias) },
            `Lambda function ${name} alias ${alias.Name ?? '?'} (version ${version})`,
          );
        }
      }),
    );
  }

  private getFunction(functionName: string, qualifier?: string): Promise<GetFunctionResponse> {
    return this.limit(() =>
      this.client.send(
        new GetFunctionCommand({ FunctionName: functionName, ...(qualifier ? { Qualifier: qualifier } : {}) }),
      ),
    );
  }

  private async listAliases(functionName: string): Promise<AliasConfiguration[]> {
    const aliases: AliasConfiguration[] = [];
    let marker: string | undefined;
    do {
      const page = await this.limit(() =>
        this.client.send(
          new ListAliasesCommand({
            FunctionName: functionName,
            MaxItems: LIST_ALIASES_MAX_ITEMS,
            ...(marker ? { Marker: marker } : {}),
          }),
        ),
      );
      aliases.push(...(page.Aliases ?? []));
      marker = page.NextMarker;
    } while (marker);
    return aliases;
  }

  /** Records the digest a version runs, when it is an image of this account's registry in this region. */
  private record(answer: GetFunctionResponse, who: Pick<Consumer, 'kind' | 'arn'>, label: string): void {
    const written = answer.Code?.ImageUri;
    const resolved = answer.Code?.ResolvedImageUri ? parseImageUri(answer.Code.ResolvedImageUri) : undefined;
    if (resolved?.digest) {
      if (this.isOurs(resolved))
        this.collector.add(resolved.repository, resolved.digest, {
          ...who,
          image: written ?? answer.Code!.ResolvedImageUri!,
        });
      return; // another registry: out of scope
    }
    const writtenRef = written ? parseImageUri(written) : undefined;
    if (writtenRef && this.isOurs(writtenRef)) {
      this.gaps.push({
        reason:
          `${label}: Lambda reports no resolved digest for ${written} (state ${answer.Configuration?.State ?? '?'}); ` +
          'the image it runs is unknown',
        repositories: [writtenRef.repository],
      });
    }
  }

  private isOurs(ref: EcrImageRef): boolean {
    return ref.registryId === this.accountId && ref.region === this.region;
  }
}
