/**
 * The push batch reading the in-use index (bench/push-index.ts), on the small account so the suite stays fast:
 * the claims the README states for the large one.
 */
import { describe, expect, it } from 'vitest';
import { SMALL } from '../../bench/accounts';
import { measurePushIndex } from '../../bench/push-index';

describe('the push batch reading the in-use index', () => {
  it('given a complete list, when a batch moves prod in 10 repositories, then it makes no ECS call, one Query per repository and protects every digest', async () => {
    const run = await measurePushIndex(SMALL);

    expect(run.fellBack).toBe(false);
    expect(run.requests.ecs).toBe(0);
    expect(run.indexReads).toEqual({ getItem: 1, query: run.pushedRepositories });
    expect(run.indexReads.getItem + run.indexReads.query).toBeLessThanOrEqual(run.indexReadBound);
    expect(run.protectedDigests).toBe(run.pushedRepositories);
    expect(run.failedRecords).toBe(0);
  });
});
