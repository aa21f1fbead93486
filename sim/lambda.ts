/**
 * A simulated Lambda service for one account and region: image and zip functions, published versions
 * and aliases, answering the real `@aws-sdk/client-lambda` through `SimTransport` (restJson1: `route`
 * maps the SDK's REST requests to operations; paths from the operations' `http` traits in botocore
 * `botocore/data/lambda/2015-03-31/service-2.json`).
 *
 * What it models because the guard depends on it:
 * - An image function's tag is resolved to a digest when the code is set (CreateFunction,
 *   UpdateFunctionCode); `GetFunction` → `Code.ResolvedImageUri` holds that digest and keeps it after the
 *   tag moves. A published version keeps the digest of the code it was published from.
 * - "If the corresponding container image no longer exists on Amazon ECR … the function enters the Failed
 *   state." See: https://docs.aws.amazon.com/lambda/latest/dg/invocation-images.html
 *   The sim moves a function to Failed (`StateReasonCode: ImageDeleted`) when `invoke` finds its digest gone.
 * - `ListFunctions` and `ListVersionsByFunction` return at most 50 items per page "even if you set the number
 *   higher" (ListFunctionsRequest.MaxItems, ListVersionsByFunctionRequest.MaxItems), and carry no `Code`: the
 *   digest is only visible through `GetFunction`.
 */
import { randomUUID } from 'node:crypto';
import { parseImageUri } from '../lambda/core/image-uri';
import type { EcrLookup } from './contracts';
import { pageByOffset } from './paging';
import { SimAwsError, type SimService } from './transport';

export interface SimLambdaOptions {
  readonly accountId: string;
  readonly region: string;
  readonly ecr: EcrLookup;
  /** the clock for LastModified (default: the wall clock) */
  readonly now?: () => Date;
}

export interface ZipFunctionOptions {
  readonly runtime?: string;
  readonly handler?: string;
}

/** What an invocation found. */
export type InvokeOutcome =
  | { readonly ok: true; readonly version: string }
  | { readonly ok: false; readonly state: 'Failed'; readonly stateReasonCode: string; readonly stateReason: string };

interface CodeRecord {
  readonly packageType: 'Image' | 'Zip';
  readonly imageUri?: string;
  readonly resolvedImageUri?: string;
  readonly runtime?: string;
  readonly handler?: string;
  readonly codeSha256: string;
}

interface VersionRecord {
  readonly version: string;
  code: CodeRecord;
  lastModified: Date;
  revisionId: string;
  state: 'Active' | 'Failed';
  stateReason?: string;
  stateReasonCode?: string;
}

interface FunctionRecord {
  readonly name: string;
  readonly arn: string;
  readonly latest: VersionRecord;
  /** published versions by number, in publishing order */
  readonly versions: Map<string, VersionRecord>;
  readonly aliases: Map<string, { name: string; functionVersion: string; revisionId: string }>;
  nextVersion: number;
}

/** Per page: "returns a maximum of 50 items in each response, even if you set the number higher". */
const MAX_PAGE = 50;

export class SimLambda implements SimService {
  readonly name = 'lambda';
  readonly hostPrefix = 'lambda';
  readonly accountId: string;
  readonly region: string;
  private readonly ecr: EcrLookup;
  private readonly now: () => Date;
  private readonly functions = new Map<string, FunctionRecord>();

  constructor(options: SimLambdaOptions) {
    this.accountId = options.accountId;
    this.region = options.region;
    this.ecr = options.ecr;
    this.now = options.now ?? (() => new Date());
  }

  // ───────────────────────────── control plane (test setup) ─────────────────────────────

  /** An image function: the tag in `imageUri` is resolved to a digest now. Returns the function ARN. */
  createFunction(name: string, imageUri: string): string {
    return this.create(name, this.imageCode(imageUri));
  }

  createZipFunction(name: string, options: ZipFunctionOptions = {}): string {
    return this.create(name, {
      packageType: 'Zip',
      runtime: options.runtime ?? 'nodejs22.x',
      handler: options.handler ?? 'index.handler',
      codeSha256: randomUUID(),
    });
  }

  /** Points `$LATEST` at a new image (the tag resolved now); published versions keep their digest. */
  updateFunctionCode(name: string, imageUri: string): void {
    const fn = this.requireFunction(name);
    if (fn.latest.code.packageType !== 'Image') throw new Error(`sim lambda: ${name} is a zip function`);
    fn.latest.code = this.imageCode(imageUri);
    fn.latest.lastModified = this.now();
    fn.latest.revisionId = randomUUID();
    fn.latest.state = 'Active';
    delete fn.latest.stateReason;
    delete fn.latest.stateReasonCode;
  }

  /** Publishes `$LATEST` as a numbered version. Returns the version number. */
  publishVersion(name: string): string {
    const fn = this.requireFunction(name);
    const version = String(fn.nextVersion);
    fn.nextVersion += 1;
    fn.versions.set(version, { ...fn.latest, version, revisionId: randomUUID() });
    return version;
  }

  createAlias(name: string, aliasName: string, functionVersion: string): string {
    const fn = this.requireFunction(name);
    if (functionVersion !== '$LATEST' && !fn.versions.has(functionVersion))
      throw new Error(`sim lambda: ${name} has no version ${functionVersion}`);
    fn.aliases.set(aliasName, { name: aliasName, functionVersion, revisionId: randomUUID() });
    return `${fn.arn}:${aliasName}`;
  }

  /**
   * Invokes a function version (default `$LATEST`, or an alias): an image function whose digest is no
   * longer pullable enters the Failed state. The reason text is the sim's own; the code `ImageDeleted` is
   * one of the model's `StateReasonCode` values.
   */
  invoke(name: string, qualifier?: string): InvokeOutcome {
    const fn = this.requireFunction(name);
    const version = this.versionOf(fn, qualifier);
    if (!version) throw new Error(`sim lambda: ${name} has no version or alias ${qualifier}`);
    if (version.state === 'Failed') {
      return {
        ok: false,
        state: 'Failed',
        stateReasonCode: version.stateReasonCode ?? 'ImageDeleted',
        stateReason: version.stateReason ?? '',
      };
    }
    const resolved = version.code.resolvedImageUri ? parseImageUri(version.code.resolvedImageUri) : undefined;
    if (resolved?.digest && !this.ecr.canPull(resolved.repository, resolved.digest)) {
      version.state = 'Failed';
      version.stateReasonCode = 'ImageDeleted';
      version.stateReason = `The image ${version.code.resolvedImageUri} no longer exists in Amazon ECR.`;
      return { ok: false, state: 'Failed', stateReasonCode: version.stateReasonCode, stateReason: version.stateReason };
    }
    return { ok: true, version: version.version };
  }

  // ───────────────────────────── REST routing ─────────────────────────────

  route(
    method: string,
    path: string,
    query: Record<string, string>,
    body: unknown,
  ): { operation: string; input: unknown } {
    const segments = path
      .split('/')
      .filter(Boolean)
      .map((s) => decodeURIComponent(s));
    if (segments[0] !== '2015-03-31' || segments[1] !== 'functions') {
      return { operation: `Unsupported ${method} ${path}`, input: {} };
    }
    const [, , functionName, sub, subName] = segments;
    const numberOf = (key: string): number | undefined =>
      query[key] !== undefined && query[key] !== '' ? Number(query[key]) : undefined;
    if (functionName === undefined) {
      if (method === 'GET') {
        return {
          operation: 'ListFunctions',
          input: {
            Marker: query.Marker,
            MaxItems: numberOf('MaxItems'),
            FunctionVersion: query.FunctionVersion,
            MasterRegion: query.MasterRegion,
          },
        };
      }
      return { operation: 'CreateFunction', input: body ?? {} };
    }
    if (sub === undefined && method === 'GET')
      return { operation: 'GetFunction', input: { FunctionName: functionName, Qualifier: query.Qualifier } };
    if (sub === 'configuration' && method === 'GET')
      return {
        operation: 'GetFunctionConfiguration',
        input: { FunctionName: functionName, Qualifier: query.Qualifier },
      };
    if (sub === 'aliases' && subName === undefined && method === 'GET') {
      return {
        operation: 'ListAliases',
        input: {
          FunctionName: functionName,
          FunctionVersion: query.FunctionVersion,
          Marker: query.Marker,
          MaxItems: numberOf('MaxItems'),
        },
      };
    }
    if (sub === 'aliases' && subName !== undefined && method === 'GET')
      return { operation: 'GetAlias', input: { FunctionName: functionName, Name: subName } };
    if (sub === 'versions' && method === 'GET') {
      return {
        operation: 'ListVersionsByFunction',
        input: { FunctionName: functionName, Marker: query.Marker, MaxItems: numberOf('MaxItems') },
      };
    }
    return { operation: `Unsupported ${method} ${path}`, input: { FunctionName: functionName } };
  }

  handle(operation: string, input: any): unknown {
    switch (operation) {
      case 'GetFunction':
        return this.getFunction(input);
      case 'GetFunctionConfiguration': {
        const { fn, version } = this.resolveQualified(input.FunctionName, input.Qualifier);
        return this.configuration(fn, version);
      }
      case 'ListFunctions':
        return this.listFunctions(input);
      case 'ListAliases':
        return this.listAliases(input);
      case 'GetAlias':
        return this.getAlias(input);
      case 'ListVersionsByFunction':
        return this.listVersionsByFunction(input);
      default:
        throw new SimAwsError(
          'InvalidParameterValueException',
          `simulated Lambda does not implement ${operation}`,
          400,
        );
    }
  }

  private getFunction(input: { FunctionName: string; Qualifier?: string }): unknown {
    const { fn, version } = this.resolveQualified(input.FunctionName, input.Qualifier);
    const code = version.code;
    return {
      Configuration: this.configuration(fn, version),
      Code:
        code.packageType === 'Image'
          ? { RepositoryType: 'ECR', ImageUri: code.imageUri, ResolvedImageUri: code.resolvedImageUri }
          : {
              RepositoryType: 'S3',
              Location: `https://awslambda-${this.region}-tasks.s3.${this.region}.amazonaws.com/snapshots/${this.accountId}/${fn.name}-${code.codeSha256}`,
            },
      Tags: {},
    };
  }

  // Page size: at most 50 per page whatever MaxItems says (ListFunctionsRequest.MaxItems).
  // FunctionVersion=ALL adds every published version (ListFunctionsRequest.FunctionVersion).
  private listFunctions(input: { Marker?: string; MaxItems?: number; FunctionVersion?: string }): unknown {
    if (input.FunctionVersion !== undefined && input.FunctionVersion !== 'ALL') {
      throw new SimAwsError('InvalidParameterValueException', `Invalid FunctionVersion: ${input.FunctionVersion}`);
    }
    const all: unknown[] = [];
    for (const fn of this.functions.values()) {
      all.push(this.configuration(fn, fn.latest));
      if (input.FunctionVersion === 'ALL')
        for (const version of fn.versions.values()) all.push(this.configuration(fn, version));
    }
    const page = paginate(`ListFunctions/${input.FunctionVersion ?? ''}`, all, input.Marker, pageSize(input.MaxItems));
    return { Functions: page.items, ...(page.next ? { NextMarker: page.next } : {}) };
  }

  // ListAliases documents no per-page cap ("Limit the number of aliases returned."); the sim caps at 50 like
  // the other Lambda list operations.
  private listAliases(input: {
    FunctionName: string;
    FunctionVersion?: string;
    Marker?: string;
    MaxItems?: number;
  }): unknown {
    const fn = this.lookupFunction(input.FunctionName);
    const aliases = [...fn.aliases.values()]
      .filter((a) => !input.FunctionVersion || a.functionVersion === input.FunctionVersion)
      .map((a) => this.aliasShape(fn, a));
    const page = paginate(
      `ListAliases/${fn.name}/${input.FunctionVersion ?? ''}`,
      aliases,
      input.Marker,
      pageSize(input.MaxItems),
    );
    return { Aliases: page.items, ...(page.next ? { NextMarker: page.next } : {}) };
  }

  private getAlias(input: { FunctionName: string; Name: string }): unknown {
    const fn = this.lookupFunction(input.FunctionName);
    const alias = fn.aliases.get(input.Name);
    if (!alias) throw notFound(`Alias not found: ${fn.arn}:${input.Name}`);
    return this.aliasShape(fn, alias);
  }

  // $LATEST first, then published versions in order; at most 50 per page (ListVersionsByFunctionRequest.MaxItems).
  private listVersionsByFunction(input: { FunctionName: string; Marker?: string; MaxItems?: number }): unknown {
    const fn = this.lookupFunction(input.FunctionName);
    const versions = [fn.latest, ...fn.versions.values()].map((v) => this.configuration(fn, v));
    const page = paginate(`ListVersionsByFunction/${fn.name}`, versions, input.Marker, pageSize(input.MaxItems));
    return { Versions: page.items, ...(page.next ? { NextMarker: page.next } : {}) };
  }

  // ───────────────────────────── shapes ─────────────────────────────

  /** `FunctionConfiguration`. `LastModified` is a string in the model (ISO 8601, e.g. `2024-05-01T10:00:00.000+0000`). */
  private configuration(fn: FunctionRecord, version: VersionRecord): unknown {
    const code = version.code;
    return {
      FunctionName: fn.name,
      FunctionArn: version.version === '$LATEST' ? fn.arn : `${fn.arn}:${version.version}`,
      Role: `arn:aws:iam::${this.accountId}:role/${fn.name}-role`,
      CodeSize: 0,
      CodeSha256: code.codeSha256,
      Timeout: 3,
      MemorySize: 128,
      LastModified: lambdaTimestamp(version.lastModified),
      Version: version.version,
      RevisionId: version.revisionId,
      PackageType: code.packageType,
      ...(code.packageType === 'Zip' ? { Runtime: code.runtime, Handler: code.handler } : {}),
      State: version.state,
      ...(version.stateReason ? { StateReason: version.stateReason } : {}),
      ...(version.stateReasonCode ? { StateReasonCode: version.stateReasonCode } : {}),
      LastUpdateStatus: 'Successful',
      Architectures: ['x86_64'],
    };
  }

  private aliasShape(
    fn: FunctionRecord,
    alias: { name: string; functionVersion: string; revisionId: string },
  ): unknown {
    return {
      AliasArn: `${fn.arn}:${alias.name}`,
      Name: alias.name,
      FunctionVersion: alias.functionVersion,
      RevisionId: alias.revisionId,
    };
  }

  // ───────────────────────────── internals ─────────────────────────────

  private create(name: string, code: CodeRecord): string {
    if (this.functions.has(name)) throw new Error(`sim lambda: function ${name} already exists`);
    const arn = `arn:aws:lambda:${this.region}:${this.accountId}:function:${name}`;
    this.functions.set(name, {
      name,
      arn,
      latest: { version: '$LATEST', code, lastModified: this.now(), revisionId: randomUUID(), state: 'Active' },
      versions: new Map(),
      aliases: new Map(),
      nextVersion: 1,
    });
    return arn;
  }

  /** Resolves the image's tag now: `ResolvedImageUri` = `<host>/<repo>@<digest>`. */
  private imageCode(imageUri: string): CodeRecord {
    const ref = parseImageUri(imageUri);
    if (!ref) throw new Error(`sim lambda: ${imageUri} is not an ECR image URI`);
    const digest = ref.digest ?? this.ecr.resolve(ref.repository, { tag: ref.tag ?? 'latest' });
    // CreateFunction refuses an image that does not exist (InvalidParameterValueException in the real API).
    if (!digest) throw new Error(`sim lambda: source image ${imageUri} does not exist`);
    const host = imageUri.slice(0, imageUri.indexOf('/'));
    return {
      packageType: 'Image',
      imageUri,
      resolvedImageUri: `${host}/${ref.repository}@${digest}`,
      codeSha256: digest.replace('sha256:', ''),
    };
  }

  private requireFunction(name: string): FunctionRecord {
    const fn = this.functions.get(name);
    if (!fn) throw new Error(`sim lambda: no function ${name}`);
    return fn;
  }

  /**
   * A function by name, ARN or partial ARN (`123456789012:function:name`), with an optional `:qualifier`.
   * See the FunctionName formats in GetFunctionRequest.
   */
  private parseFunctionName(identifier: string): { name: string; qualifier?: string } {
    let rest = identifier;
    if (rest.startsWith('arn:')) rest = rest.split(':').slice(6).join(':');
    else if (/^\d{12}:function:/.test(rest)) rest = rest.split(':').slice(2).join(':');
    const [name, qualifier] = rest.split(':');
    return qualifier !== undefined ? { name: name!, qualifier } : { name: name! };
  }

  private lookupFunction(identifier: string): FunctionRecord {
    const { name } = this.parseFunctionName(identifier);
    const fn = this.functions.get(name);
    if (!fn) throw notFound(`Function not found: arn:aws:lambda:${this.region}:${this.accountId}:function:${name}`);
    return fn;
  }

  private resolveQualified(
    identifier: string,
    qualifierParam?: string,
  ): { fn: FunctionRecord; version: VersionRecord } {
    const parsed = this.parseFunctionName(identifier);
    const fn = this.lookupFunction(parsed.name);
    const qualifier = qualifierParam ?? parsed.qualifier;
    const version = this.versionOf(fn, qualifier);
    if (!version) throw notFound(`Function not found: ${fn.arn}:${qualifier}`);
    return { fn, version };
  }

  private versionOf(fn: FunctionRecord, qualifier: string | undefined): VersionRecord | undefined {
    if (qualifier === undefined || qualifier === '' || qualifier === '$LATEST') return fn.latest;
    const byVersion = fn.versions.get(qualifier);
    if (byVersion) return byVersion;
    const alias = fn.aliases.get(qualifier);
    if (!alias) return undefined;
    return alias.functionVersion === '$LATEST' ? fn.latest : fn.versions.get(alias.functionVersion);
  }
}

function notFound(message: string): SimAwsError {
  return new SimAwsError('ResourceNotFoundException', message, 404);
}

function pageSize(maxItems: number | undefined): number {
  if (maxItems === undefined || Number.isNaN(maxItems)) return MAX_PAGE;
  if (!Number.isInteger(maxItems) || maxItems < 1 || maxItems > 10_000) {
    // botocore: MaxListItems is an integer 1–10000; outside it the request fails validation.
    throw new SimAwsError('InvalidParameterValueException', `MaxItems must be between 1 and 10000, got ${maxItems}`);
  }
  return Math.min(maxItems, MAX_PAGE);
}

/** Lambda lists page with `Marker`; a marker from another listing is refused as Lambda refuses it. */
function paginate<T>(key: string, items: readonly T[], marker: string | undefined, size: number) {
  return pageByOffset(
    key,
    items,
    marker,
    size,
    () => new SimAwsError('InvalidParameterValueException', 'Invalid Marker'),
  );
}

/** Lambda's LastModified format: `2024-05-01T10:00:00.000+0000`. */
function lambdaTimestamp(date: Date): string {
  return date.toISOString().replace('Z', '+0000');
}
