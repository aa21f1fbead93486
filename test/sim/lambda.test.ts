/**
 * The simulated Lambda service under the real `@aws-sdk/client-lambda` (restJson1): where a guard finds
 * the digests that image functions run. Shapes: botocore `botocore/data/lambda/2015-03-31/service-2.json`
 * (mirrored by the SDK's `dist-types/models`).
 */
import {
  GetAliasCommand,
  GetFunctionCommand,
  LambdaClient,
  ListAliasesCommand,
  ListFunctionsCommand,
  ResourceNotFoundException,
  paginateListFunctions,
  paginateListVersionsByFunction,
  type FunctionConfiguration,
} from '@aws-sdk/client-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { FAKE_ACCOUNT, FAKE_REGION, FAKE_REGISTRY_HOST, FakeRegistry } from './fake-registry';
import { SimLambda } from '../../sim/lambda';
import { SimTransport } from '../../sim/transport';

const ACCOUNT = FAKE_ACCOUNT;
const REGION = FAKE_REGION;
const HOST = FAKE_REGISTRY_HOST;
const DIGEST_A = `sha256:${'a'.repeat(64)}`;
const DIGEST_B = `sha256:${'b'.repeat(64)}`;

let registry: FakeRegistry;
let lambda: SimLambda;
let client: LambdaClient;

beforeEach(() => {
  registry = new FakeRegistry().push('fn', 'prod', DIGEST_A);
  lambda = new SimLambda({ accountId: ACCOUNT, region: REGION, ecr: registry });
  const transport = new SimTransport();
  transport.register(lambda);
  client = new LambdaClient({
    region: REGION,
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    requestHandler: transport.requestHandler,
    maxAttempts: 1,
  });
});

describe('image functions: the digest is resolved when the code is set', () => {
  // GetFunction → Code.ImageUri (as written) and Code.ResolvedImageUri (FunctionCodeLocation);
  // "If the corresponding container image no longer exists on Amazon ECR … the function enters the Failed state."
  // See: https://docs.aws.amazon.com/lambda/latest/dg/invocation-images.html
  it('keeps the create-time digest in ResolvedImageUri after the tag moves', async () => {
    lambda.createFunction('thumbnails', `${HOST}/fn:prod`);
    registry.push('fn', 'prod', DIGEST_B);

    const out = await client.send(new GetFunctionCommand({ FunctionName: 'thumbnails' }));

    expect(out.Code).toEqual({
      RepositoryType: 'ECR',
      ImageUri: `${HOST}/fn:prod`,
      ResolvedImageUri: `${HOST}/fn@${DIGEST_A}`,
    });
    expect(out.Configuration!.PackageType).toBe('Image');
    expect(out.Configuration!.State).toBe('Active');
    expect(out.Configuration!.FunctionArn).toBe(`arn:aws:lambda:${REGION}:${ACCOUNT}:function:thumbnails`);
  });

  it('re-resolves on UpdateFunctionCode while a published version keeps its own digest', async () => {
    lambda.createFunction('thumbnails', `${HOST}/fn:prod`);
    const version = lambda.publishVersion('thumbnails');
    lambda.createAlias('thumbnails', 'live', version);
    registry.push('fn', 'prod', DIGEST_B);
    lambda.updateFunctionCode('thumbnails', `${HOST}/fn:prod`);

    const latest = await client.send(new GetFunctionCommand({ FunctionName: 'thumbnails' }));
    const published = await client.send(new GetFunctionCommand({ FunctionName: 'thumbnails', Qualifier: version }));
    const viaAlias = await client.send(
      new GetFunctionCommand({ FunctionName: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:thumbnails:live` }),
    );

    expect(latest.Code!.ResolvedImageUri).toBe(`${HOST}/fn@${DIGEST_B}`);
    expect(published.Code!.ResolvedImageUri).toBe(`${HOST}/fn@${DIGEST_A}`);
    expect(published.Configuration!.Version).toBe('1');
    expect(published.Configuration!.FunctionArn).toBe(`arn:aws:lambda:${REGION}:${ACCOUNT}:function:thumbnails:1`);
    expect(viaAlias.Code!.ResolvedImageUri).toBe(`${HOST}/fn@${DIGEST_A}`);
  });

  it('enters the Failed state (ImageDeleted) when an invocation finds the digest gone', async () => {
    lambda.createFunction('thumbnails', `${HOST}/fn:prod`);
    expect(lambda.invoke('thumbnails')).toEqual({ ok: true, version: '$LATEST' });
    registry.push('fn', 'prod', DIGEST_B);
    registry.expire('fn', DIGEST_A);

    const outcome = lambda.invoke('thumbnails');

    expect(outcome).toMatchObject({ ok: false, state: 'Failed', stateReasonCode: 'ImageDeleted' });
    const out = await client.send(new GetFunctionCommand({ FunctionName: 'thumbnails' }));
    // State and StateReasonCode values from the model's State / StateReasonCode enums.
    expect(out.Configuration!.State).toBe('Failed');
    expect(out.Configuration!.StateReasonCode).toBe('ImageDeleted');
    expect(out.Code!.ResolvedImageUri).toBe(`${HOST}/fn@${DIGEST_A}`);
  });

  it('reports LastModified as the string the model declares', async () => {
    lambda.createFunction('thumbnails', `${HOST}/fn:prod`);
    const out = await client.send(new GetFunctionCommand({ FunctionName: 'thumbnails' }));
    expect(typeof out.Configuration!.LastModified).toBe('string');
    expect(out.Configuration!.LastModified).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
  });
});

describe('zip functions', () => {
  it('have no image URIs: Code points at S3', async () => {
    lambda.createZipFunction('cron', { runtime: 'nodejs22.x' });
    const out = await client.send(new GetFunctionCommand({ FunctionName: 'cron' }));
    expect(out.Configuration!.PackageType).toBe('Zip');
    expect(out.Configuration!.Runtime).toBe('nodejs22.x');
    expect(out.Code!.RepositoryType).toBe('S3');
    expect(out.Code!.ResolvedImageUri).toBeUndefined();
  });
});

describe('listing', () => {
  // "ListFunctions returns a maximum of 50 items in each response, even if you set the number higher."
  // (ListFunctionsRequest.MaxItems)
  it('ListFunctions caps pages at 50 and the paginator collects every function, image and zip', async () => {
    for (let i = 0; i < 70; i += 1) lambda.createFunction(`img-${i}`, `${HOST}/fn:prod`);
    for (let i = 0; i < 50; i += 1) lambda.createZipFunction(`zip-${i}`);

    const first = await client.send(new ListFunctionsCommand({ MaxItems: 1000 }));
    expect(first.Functions).toHaveLength(50);
    expect(first.NextMarker).toBeDefined();

    const all: FunctionConfiguration[] = [];
    let pages = 0;
    for await (const page of paginateListFunctions({ client }, {})) {
      pages += 1;
      all.push(...page.Functions!);
    }
    expect(pages).toBe(3);
    expect(all.filter((f) => f.PackageType === 'Image')).toHaveLength(70);
    expect(all.filter((f) => f.PackageType === 'Zip')).toHaveLength(50);
    // The list carries configurations only: the digest needs GetFunction.
    expect(all.some((f) => 'Code' in f)).toBe(false);
  });

  it('ListFunctions with FunctionVersion ALL adds published versions', async () => {
    lambda.createFunction('thumbnails', `${HOST}/fn:prod`);
    lambda.publishVersion('thumbnails');
    const { Functions } = await client.send(new ListFunctionsCommand({ FunctionVersion: 'ALL' }));
    expect(Functions!.map((f) => f.Version)).toEqual(['$LATEST', '1']);
  });

  it('ListVersionsByFunction lists $LATEST then every version, 50 per page', async () => {
    lambda.createFunction('thumbnails', `${HOST}/fn:prod`);
    for (let i = 0; i < 60; i += 1) lambda.publishVersion('thumbnails');
    const versions: string[] = [];
    let pages = 0;
    for await (const page of paginateListVersionsByFunction({ client }, { FunctionName: 'thumbnails' })) {
      pages += 1;
      versions.push(...page.Versions!.map((v) => v.Version!));
    }
    expect(pages).toBe(2);
    expect(versions).toHaveLength(61);
    expect(versions[0]).toBe('$LATEST');
    expect(versions[60]).toBe('60');
  });

  it('ListAliases and GetAlias show which version an alias runs', async () => {
    lambda.createFunction('thumbnails', `${HOST}/fn:prod`);
    const one = lambda.publishVersion('thumbnails');
    const two = lambda.publishVersion('thumbnails');
    lambda.createAlias('thumbnails', 'live', one);
    lambda.createAlias('thumbnails', 'canary', two);

    const { Aliases } = await client.send(new ListAliasesCommand({ FunctionName: 'thumbnails' }));
    expect(Aliases!.map((a) => [a.Name, a.FunctionVersion])).toEqual([
      ['live', '1'],
      ['canary', '2'],
    ]);
    const onlyTwo = await client.send(new ListAliasesCommand({ FunctionName: 'thumbnails', FunctionVersion: '2' }));
    expect(onlyTwo.Aliases!.map((a) => a.Name)).toEqual(['canary']);
    const live = await client.send(new GetAliasCommand({ FunctionName: 'thumbnails', Name: 'live' }));
    expect(live.AliasArn).toBe(`arn:aws:lambda:${REGION}:${ACCOUNT}:function:thumbnails:live`);
  });

  it('pages ListAliases by MaxItems and Marker', async () => {
    lambda.createFunction('thumbnails', `${HOST}/fn:prod`);
    const version = lambda.publishVersion('thumbnails');
    for (let i = 0; i < 5; i += 1) lambda.createAlias('thumbnails', `a${i}`, version);
    const first = await client.send(new ListAliasesCommand({ FunctionName: 'thumbnails', MaxItems: 3 }));
    const second = await client.send(
      new ListAliasesCommand({ FunctionName: 'thumbnails', MaxItems: 3, Marker: first.NextMarker }),
    );
    expect(first.Aliases).toHaveLength(3);
    expect(second.Aliases).toHaveLength(2);
    expect(second.NextMarker).toBeUndefined();
  });

  // MaxItems is botocore shape MaxListItems: integer, min 1, max 10000.
  it('refuses MaxItems outside 1–10000', async () => {
    await expect(client.send(new ListFunctionsCommand({ MaxItems: 0 }))).rejects.toMatchObject({
      name: 'InvalidParameterValueException',
    });
  });
});

describe('lookups that miss', () => {
  it('raise ResourceNotFoundException (HTTP 404)', async () => {
    lambda.createFunction('thumbnails', `${HOST}/fn:prod`);
    const missing = await client.send(new GetFunctionCommand({ FunctionName: 'nope' })).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
    expect((missing as ResourceNotFoundException).$metadata.httpStatusCode).toBe(404);
    await expect(
      client.send(new GetFunctionCommand({ FunctionName: 'thumbnails', Qualifier: '7' })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(client.send(new GetAliasCommand({ FunctionName: 'thumbnails', Name: 'nope' }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
  });
});
