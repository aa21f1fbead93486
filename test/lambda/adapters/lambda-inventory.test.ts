/**
 * The Lambda inventory adapter over a mocked `LambdaClient`. Shapes and limits: botocore
 * `botocore/data/lambda/2015-03-31/service-2.json` (mirrored by `@aws-sdk/client-lambda`'s models):
 * - ListFunctions "returns a maximum of 50 items in each response, even if you set the number higher"
 *   (ListFunctionsRequest.MaxItems); its FunctionConfiguration has `PackageType` but no `Code`.
 * - GetFunction → `Code.ImageUri` (as written) and `Code.ResolvedImageUri` (the digest Lambda resolved);
 *   `Qualifier` selects a version or alias; an unknown function or version is `ResourceNotFoundException`.
 * - ListAliases pages with Marker/NextMarker; an alias has `FunctionVersion` and, when weighted,
 *   `RoutingConfig.AdditionalVersionWeights` (version → share of traffic).
 *   See: https://docs.aws.amazon.com/lambda/latest/dg/configuration-aliases.html
 * - "If the corresponding container image no longer exists on Amazon ECR … the function enters the Failed
 *   state." See: https://docs.aws.amazon.com/lambda/latest/dg/invocation-images.html
 */
import {
  GetFunctionCommand,
  InvalidParameterValueException,
  LambdaClient,
  ListAliasesCommand,
  ListFunctionsCommand,
  ResourceNotFoundException,
  TooManyRequestsException,
  type AliasConfiguration,
  type FunctionConfiguration,
  type GetFunctionResponse,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { inFlightCounter, type InFlightStats } from '../../support/in-flight';
import {
  LambdaInventoryAdapter,
  LIST_FUNCTIONS_PAGE_SIZE,
  countLambdaInventoryRequests,
} from '../../../lambda/adapters/lambda-inventory';
import type { Inventory } from '../../../lambda/core/types';
import { resetBeforeEach } from '../../support/mocked-clients';

const lambda = mockClient(LambdaClient);
const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const HOST = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`;
const meta = { $metadata: {} };
const digest = (n: number): string => `sha256:${n.toString(16).padStart(64, '0')}`;
const functionArn = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;

// ---------------------------------------------------------------------------------------------------------
// A small fake Lambda account behind the mocked client: pages as the API does (ListFunctions ≤50 a page;
// ListAliases at `aliasPageSize` so paging is exercised), answers GetFunction by name or ARN and qualifier,
// counts requests in flight and refuses a MaxItems outside MaxListItems (1–10000).
// ---------------------------------------------------------------------------------------------------------
interface FakeVersion {
  readonly imageUri?: string;
  readonly resolvedImageUri?: string;
  readonly state?: string;
}
interface FakeFunction {
  readonly name: string;
  readonly packageType: 'Image' | 'Zip';
  readonly versions: Map<string, FakeVersion>; // '$LATEST', '1', '2', …
  readonly aliases: AliasConfiguration[];
}
interface FakeAccount {
  readonly functions: FakeFunction[];
  aliasPageSize: number;
}

const emptyAccount = (): FakeAccount => ({ functions: [], aliasPageSize: 50 });

/** An image function whose $LATEST was created from `imageUri` and resolved to `resolvedDigest`. */
function addImageFunction(
  account: FakeAccount,
  name: string,
  imageUri: string,
  resolvedDigest: string | undefined,
): FakeFunction {
  const fn: FakeFunction = { name, packageType: 'Image', versions: new Map(), aliases: [] };
  fn.versions.set('$LATEST', version(imageUri, resolvedDigest));
  account.functions.push(fn);
  return fn;
}

function version(imageUri: string, resolvedDigest: string | undefined): FakeVersion {
  const repo = imageUri.replace(/[:@].*$/, '').replace(/^.*?\/(.*)$/, '$1');
  const host = imageUri.slice(0, imageUri.indexOf('/'));
  return { imageUri, ...(resolvedDigest ? { resolvedImageUri: `${host}/${repo}@${resolvedDigest}` } : {}) };
}

function addZipFunction(account: FakeAccount, name: string): void {
  account.functions.push({ name, packageType: 'Zip', versions: new Map([['$LATEST', {}]]), aliases: [] });
}

function addAlias(fn: FakeFunction, name: string, functionVersion: string, weights?: Record<string, number>): void {
  fn.aliases.push({
    AliasArn: `${functionArn(fn.name)}:${name}`,
    Name: name,
    FunctionVersion: functionVersion,
    ...(weights ? { RoutingConfig: { AdditionalVersionWeights: weights } } : {}),
  });
}

function page<T>(items: readonly T[], marker: string | undefined, maxItems: number | undefined, cap: number) {
  if (maxItems !== undefined && (maxItems < 1 || maxItems > 10_000)) {
    throw new InvalidParameterValueException({ message: 'MaxItems must be 1..10000', ...meta });
  }
  const start = marker ? Number(marker.replace('marker-', '')) : 0;
  const end = start + Math.min(maxItems ?? cap, cap);
  return { items: items.slice(start, end), next: end < items.length ? `marker-${end}` : undefined };
}

function serve(account: FakeAccount, delayMs = 0): InFlightStats {
  const { stats, answer } = inFlightCounter(delayMs);
  const lookup = (ref: string | undefined): FakeFunction => {
    const name = ref?.startsWith('arn:') ? ref.split(':')[6] : ref;
    const fn = account.functions.find((f) => f.name === name);
    if (!fn)
      throw new ResourceNotFoundException({
        message: `Function not found: ${functionArn(name ?? '?')}`,
        Type: 'User',
        ...meta,
      });
    return fn;
  };
  const configuration = (fn: FakeFunction, v: string): FunctionConfiguration => ({
    FunctionName: fn.name,
    FunctionArn: v === '$LATEST' ? functionArn(fn.name) : `${functionArn(fn.name)}:${v}`,
    Version: v,
    PackageType: fn.packageType,
    State: (fn.versions.get(v)?.state ?? 'Active') as FunctionConfiguration['State'],
  });

  lambda.on(ListFunctionsCommand).callsFake(
    answer((input: { Marker?: string; MaxItems?: number }) => {
      const p = page(account.functions, input.Marker, input.MaxItems, LIST_FUNCTIONS_PAGE_SIZE);
      return {
        Functions: p.items.map((fn) => configuration(fn, '$LATEST')),
        ...(p.next ? { NextMarker: p.next } : {}),
      };
    }),
  );
  lambda.on(GetFunctionCommand).callsFake(
    answer((input: { FunctionName?: string; Qualifier?: string }): GetFunctionResponse => {
      const fn = lookup(input.FunctionName);
      const qualifier = input.Qualifier ?? '$LATEST';
      const aliased = fn.aliases.find((a) => a.Name === qualifier)?.FunctionVersion;
      const v = aliased ?? qualifier;
      const found = fn.versions.get(v);
      if (!found)
        throw new ResourceNotFoundException({
          message: `Function not found: ${functionArn(fn.name)}:${qualifier}`,
          Type: 'User',
          ...meta,
        });
      return {
        Configuration: configuration(fn, v),
        Code:
          fn.packageType === 'Image'
            ? {
                RepositoryType: 'ECR',
                ImageUri: found.imageUri,
                ...(found.resolvedImageUri ? { ResolvedImageUri: found.resolvedImageUri } : {}),
              }
            : { RepositoryType: 'S3', Location: 'https://example.invalid/zip' },
      };
    }),
  );
  lambda.on(ListAliasesCommand).callsFake(
    answer((input: { FunctionName?: string; Marker?: string; MaxItems?: number }) => {
      const fn = lookup(input.FunctionName);
      const p = page(fn.aliases, input.Marker, input.MaxItems, account.aliasPageSize);
      return { Aliases: p.items, ...(p.next ? { NextMarker: p.next } : {}) };
    }),
  );
  return stats;
}

const adapter = (concurrency?: number) =>
  new LambdaInventoryAdapter(
    { accountId: ACCOUNT, region: REGION, ...(concurrency ? { concurrency } : {}) },
    lambda as unknown as LambdaClient,
  );

const consumersOf = (inventory: Inventory, repository: string, d: string) =>
  inventory.byRepository.get(repository)?.get(d);

let account: FakeAccount;

resetBeforeEach(lambda);
beforeEach(() => {
  account = emptyAccount();
});

describe('image functions: $LATEST', () => {
  it('lists the digest Lambda resolved, named by the function ARN and the image as written', async () => {
    addImageFunction(account, 'thumbnails', `${HOST}/app:prod`, digest(1));
    serve(account);

    const inventory = await adapter().takeInventory();

    expect(consumersOf(inventory, 'app', digest(1))).toEqual([
      { kind: 'lambda-function', arn: functionArn('thumbnails'), image: `${HOST}/app:prod` },
    ]);
    expect(inventory.gaps).toEqual([]);
  });

  it('reads no zip function beyond the list', async () => {
    addZipFunction(account, 'zip-1');
    addZipFunction(account, 'zip-2');
    addImageFunction(account, 'img', `${HOST}/app:prod`, digest(1));
    serve(account);

    const inventory = await adapter().takeInventory();

    expect(lambda.commandCalls(GetFunctionCommand).map((c) => c.args[0].input.FunctionName)).toEqual([
      functionArn('img'),
    ]);
    expect(lambda.commandCalls(ListAliasesCommand).map((c) => c.args[0].input.FunctionName)).toEqual([
      functionArn('img'),
    ]);
    expect([...inventory.byRepository.keys()]).toEqual(['app']);
  });

  it('pages through every function with Marker, 50 a page', async () => {
    for (let i = 0; i < 120; i++) addImageFunction(account, `fn-${i}`, `${HOST}/app:v${i}`, digest(i + 1));
    serve(account);

    const inventory = await adapter().takeInventory();

    expect(lambda.commandCalls(ListFunctionsCommand).map((c) => c.args[0].input)).toEqual([
      { MaxItems: 50 },
      { MaxItems: 50, Marker: 'marker-50' },
      { MaxItems: 50, Marker: 'marker-100' },
    ]);
    expect(inventory.byRepository.get('app')!.size).toBe(120);
  });

  it('leaves out images of another account, another region or another registry, without a gap', async () => {
    addImageFunction(account, 'other-account', `444455556666.dkr.ecr.${REGION}.amazonaws.com/app:prod`, digest(1));
    addImageFunction(account, 'other-region', `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/app:prod`, digest(2));
    account.functions.push({
      name: 'public',
      packageType: 'Image',
      versions: new Map([
        [
          '$LATEST',
          {
            imageUri: 'public.ecr.aws/lambda/nodejs:22',
            resolvedImageUri: `public.ecr.aws/lambda/nodejs@${digest(3)}`,
          },
        ],
      ]),
      aliases: [],
    });
    addImageFunction(account, 'ours', `${HOST}/app:prod`, digest(4));
    serve(account);

    const inventory = await adapter().takeInventory();

    expect([...inventory.byRepository.get('app')!.keys()]).toEqual([digest(4)]);
    expect(inventory.byRepository.size).toBe(1);
    expect(inventory.gaps).toEqual([]);
  });

  it('reports a gap when Lambda shows no resolved digest for an image of this registry', async () => {
    const fn = addImageFunction(account, 'pending', `${HOST}/app:prod`, undefined);
    fn.versions.set('$LATEST', { imageUri: `${HOST}/app:prod`, state: 'Pending' });
    serve(account);

    const inventory = await adapter().takeInventory();

    expect(inventory.byRepository.size).toBe(0);
    expect(inventory.gaps).toEqual([
      {
        reason:
          `Lambda function pending: Lambda reports no resolved digest for ${HOST}/app:prod (state Pending); ` +
          'the image it runs is unknown',
        repositories: ['app'],
      },
    ]);
  });
});

describe('published versions behind aliases', () => {
  it('lists the digest of the version an alias points at, named by the alias ARN', async () => {
    const fn = addImageFunction(account, 'api', `${HOST}/app:prod`, digest(2));
    fn.versions.set('1', version(`${HOST}/app:prod`, digest(1))); // published before prod moved
    addAlias(fn, 'live', '1');
    serve(account);

    const inventory = await adapter().takeInventory();

    expect(consumersOf(inventory, 'app', digest(1))).toEqual([
      { kind: 'lambda-function', arn: `${functionArn('api')}:live`, image: `${HOST}/app:prod` },
    ]);
    expect(consumersOf(inventory, 'app', digest(2))).toEqual([
      { kind: 'lambda-function', arn: functionArn('api'), image: `${HOST}/app:prod` },
    ]);
    expect(lambda.commandCalls(GetFunctionCommand).map((c) => c.args[0].input)).toEqual([
      { FunctionName: functionArn('api') },
      { FunctionName: functionArn('api'), Qualifier: '1' },
    ]);
  });

  it('lists the versions a weighted alias shifts traffic to: their share of the traffic runs them', async () => {
    // AliasRoutingConfiguration.AdditionalVersionWeights: "The second version, and the percentage of traffic
    // that's routed to it." See: https://docs.aws.amazon.com/lambda/latest/dg/configuration-aliases.html
    const fn = addImageFunction(account, 'api', `${HOST}/app:prod`, digest(3));
    fn.versions.set('1', version(`${HOST}/app:prod`, digest(1)));
    fn.versions.set('2', version(`${HOST}/app:prod`, digest(2)));
    addAlias(fn, 'live', '1', { '2': 0.1 });
    serve(account);

    const inventory = await adapter().takeInventory();

    const live = { kind: 'lambda-function', arn: `${functionArn('api')}:live`, image: `${HOST}/app:prod` };
    expect(consumersOf(inventory, 'app', digest(1))).toEqual([live]);
    expect(consumersOf(inventory, 'app', digest(2))).toEqual([live]);
  });

  it('reads each aliased version once, and an alias on $LATEST not at all', async () => {
    const fn = addImageFunction(account, 'api', `${HOST}/app:prod`, digest(3));
    fn.versions.set('1', version(`${HOST}/app:prod`, digest(1)));
    addAlias(fn, 'live', '1');
    addAlias(fn, 'blue', '1');
    addAlias(fn, 'canary', '$LATEST');
    serve(account);

    const inventory = await adapter().takeInventory();

    expect(lambda.commandCalls(GetFunctionCommand)).toHaveLength(2); // $LATEST and version 1
    expect(consumersOf(inventory, 'app', digest(1))!.map((c) => c.arn)).toEqual([
      `${functionArn('api')}:live`,
      `${functionArn('api')}:blue`,
    ]);
    expect(consumersOf(inventory, 'app', digest(3))!.map((c) => c.arn)).toEqual([
      functionArn('api'),
      `${functionArn('api')}:canary`,
    ]);
  });

  it('pages through every alias with Marker', async () => {
    account.aliasPageSize = 2;
    const fn = addImageFunction(account, 'api', `${HOST}/app:prod`, digest(9));
    for (let v = 1; v <= 5; v++) {
      fn.versions.set(String(v), version(`${HOST}/app:v${v}`, digest(v)));
      addAlias(fn, `a${v}`, String(v));
    }
    serve(account);

    const inventory = await adapter().takeInventory();

    expect(lambda.commandCalls(ListAliasesCommand).map((c) => c.args[0].input.Marker)).toEqual([
      undefined,
      'marker-2',
      'marker-4',
    ]);
    expect([...inventory.byRepository.get('app')!.keys()].sort()).toEqual([1, 2, 3, 4, 5, 9].map(digest).sort());
  });
});

describe('functions that change while the inventory is taken, and errors', () => {
  it('skips a function deleted between the list and the read, with a gap, and keeps the rest', async () => {
    addImageFunction(account, 'gone', `${HOST}/app:prod`, digest(1));
    addImageFunction(account, 'kept', `${HOST}/app:prod`, digest(2));
    serve(account);
    // Deleted right after ListFunctions answered.
    lambda.on(ListFunctionsCommand).callsFake(async () => {
      const listed = account.functions.map((fn) => ({
        FunctionName: fn.name,
        FunctionArn: functionArn(fn.name),
        PackageType: fn.packageType,
      }));
      account.functions.splice(0, 1);
      return { Functions: listed };
    });

    const inventory = await adapter().takeInventory();

    expect([...inventory.byRepository.get('app')!.keys()]).toEqual([digest(2)]);
    expect(inventory.gaps).toEqual([
      { reason: 'Lambda function gone was deleted while the inventory was taken: skipped' },
    ]);
  });

  it('skips an aliased version that vanished, with a gap naming the alias', async () => {
    const fn = addImageFunction(account, 'api', `${HOST}/app:prod`, digest(2));
    addAlias(fn, 'live', '7'); // version 7 is not there any more
    serve(account);

    const inventory = await adapter().takeInventory();

    expect([...inventory.byRepository.get('app')!.keys()]).toEqual([digest(2)]);
    expect(inventory.gaps).toEqual([
      { reason: 'Lambda function api version 7 (alias live) was deleted while the inventory was taken: skipped' },
    ]);
  });

  it('rethrows every other error, so the batch is retried instead of deciding on half a picture', async () => {
    addImageFunction(account, 'api', `${HOST}/app:prod`, digest(1));
    serve(account);
    lambda.on(GetFunctionCommand).rejects(new TooManyRequestsException({ message: 'Rate exceeded', ...meta }));

    await expect(adapter().takeInventory()).rejects.toBeInstanceOf(TooManyRequestsException);

    serve(account);
    // A role without lambda:ListAliases: Lambda answers 403 AccessDeniedException (no modelled class).
    lambda
      .on(ListAliasesCommand)
      .rejects(
        Object.assign(new Error('not authorized to perform: lambda:ListAliases'), { name: 'AccessDeniedException' }),
      );
    await expect(adapter().takeInventory()).rejects.toThrow(/lambda:ListAliases/);
  });
});

describe('request count and concurrency', () => {
  it('makes exactly ⌈F/50⌉ ListFunctions + per image function 1 GetFunction + 1 ListAliases + 1 per distinct aliased version', async () => {
    // 100 zip functions, 30 image functions: 10 without aliases, 10 with one alias, 10 with two aliases on
    // two versions plus a third alias on one of them (still 2 distinct versions).
    for (let i = 0; i < 100; i++) addZipFunction(account, `zip-${i}`);
    const aliased: number[] = [];
    for (let i = 0; i < 30; i++) {
      const fn = addImageFunction(account, `img-${i}`, `${HOST}/app:prod`, digest(1000 + i));
      if (i >= 10) {
        fn.versions.set('1', version(`${HOST}/app:prod`, digest(2000 + i)));
        addAlias(fn, 'live', '1');
      }
      if (i >= 20) {
        fn.versions.set('2', version(`${HOST}/app:prod`, digest(3000 + i)));
        addAlias(fn, 'next', '2');
        addAlias(fn, 'blue', '1');
      }
      aliased.push(i >= 20 ? 2 : i >= 10 ? 1 : 0);
    }
    serve(account);

    await adapter().takeInventory();

    const expected = countLambdaInventoryRequests({ zipFunctions: 100, aliasedVersionsPerImageFunction: aliased });
    // By hand: ⌈130/50⌉ = 3 list pages; 30 × (1 GetFunction + 1 ListAliases) = 60; 10×1 + 10×2 = 30 versions.
    expect(expected).toBe(3 + 60 + 30);
    expect(lambda.commandCalls(ListFunctionsCommand)).toHaveLength(3);
    expect(lambda.commandCalls(ListAliasesCommand)).toHaveLength(30);
    expect(lambda.commandCalls(GetFunctionCommand)).toHaveLength(60);
    expect(lambda.calls()).toHaveLength(expected);
  });

  it('never has more requests in flight than the limit, and uses the limit', async () => {
    for (let i = 0; i < 40; i++) {
      const fn = addImageFunction(account, `img-${i}`, `${HOST}/app:prod`, digest(i + 1));
      fn.versions.set('1', version(`${HOST}/app:prod`, digest(100 + i)));
      addAlias(fn, 'live', '1');
    }
    const stats = serve(account, 2);

    await adapter(3).takeInventory();

    expect(stats.maxInFlight).toBe(3);
  });

  it('defaults to 4 requests in flight', async () => {
    for (let i = 0; i < 20; i++) addImageFunction(account, `img-${i}`, `${HOST}/app:prod`, digest(i + 1));
    const stats = serve(account, 2);

    await adapter().takeInventory();

    expect(stats.maxInFlight).toBe(4);
  });

  it('refuses a concurrency or account id it cannot use, naming the setting', () => {
    expect(() => new LambdaInventoryAdapter({ accountId: ACCOUNT, region: REGION, concurrency: 0 })).toThrow(
      'LambdaInventoryAdapter: concurrency must be a positive integer, got 0',
    );
    expect(() => new LambdaInventoryAdapter({ accountId: '1234', region: REGION })).toThrow(
      'LambdaInventoryAdapter: accountId must be 12 digits, got "1234"',
    );
  });
});
