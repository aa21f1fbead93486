/**
 * A simulated DynamoDB for one account and region: tables with a partition key, an optional sort key and
 * global secondary indexes, answering the real `@aws-sdk/client-dynamodb` through `SimTransport`
 * (awsJson1_0, target prefix `DynamoDB_20120810`; shapes from botocore
 * `botocore/data/dynamodb/2012-08-10/service-2.json`). Only what the in-use index calls, with the documented
 * semantics it relies on:
 * - `PutItem`, `DeleteItem`, `UpdateItem` (`SET` only) with a `ConditionExpression` evaluated against the item
 *   as it is (a missing item has no attributes): comparisons `= <> < <= > >=` on S and N, `BETWEEN`,
 *   `attribute_exists`, `attribute_not_exists`, `begins_with`, `AND`, `OR`, `NOT` and parentheses. A false
 *   condition answers `ConditionalCheckFailedException` and changes nothing. `UpdateItem` creates the item
 *   when it is missing.
 *   See: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html
 *   See: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.OperatorsAndFunctions.html
 *   See: https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateItem.html
 * - `Query` on the table or a GSI with a `KeyConditionExpression` (partition key `=`, and optionally one
 *   condition on the sort key), sorted by the sort key (numbers by value, strings by code unit: the same as
 *   UTF-8 byte order for the ASCII keys used here). A page ends after `Limit` items or once 1 MB was read, and
 *   then carries `LastEvaluatedKey` (the table keys, plus the index keys for a GSI) to pass as
 *   `ExclusiveStartKey`. A GSI holds only items that carry its key attributes (sparse) and projects, for
 *   `KEYS_ONLY`, the table and index keys.
 *   See: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.Pagination.html
 *   See: https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Query.html
 *   See: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html
 * - `ExpressionAttributeValues` or `ExpressionAttributeNames` that an expression does not use are refused
 *   (`ValidationException`), as DynamoDB does: a typo in an expression fails here as it would in AWS.
 * - `CreateTable` (keys, attribute definitions, GSIs) and `GetItem` for tests and control-plane helpers.
 *
 * Not modelled: the 400 KB item limit, GSI replication lag (reads are consistent at once; *inference* kept
 * safe by the list: an entry the GSI has not shown yet is added again with a condition that keeps it),
 * throughput, transactions other than `TransactWriteItems` of `Update` actions, nested paths (`a.b`, `a[0]`),
 * `BatchWriteItem`.
 */
import { SimAwsError, type SimService } from './transport';

/** One attribute value on the wire: `{ S: '…' }`, `{ N: '…' }`, `{ L: [...] }`, … */
export type AttributeValue = Record<string, unknown>;
export type Item = Record<string, AttributeValue>;

interface KeySchema {
  readonly partitionKey: string;
  readonly sortKey?: string;
}

interface GsiDefinition extends KeySchema {
  readonly name: string;
  readonly projection: 'ALL' | 'KEYS_ONLY';
}

interface Table extends KeySchema {
  readonly name: string;
  readonly attributeTypes: Readonly<Record<string, string>>;
  readonly indexes: readonly GsiDefinition[];
  readonly items: Map<string, Item>;
}

/** What a Query page may read: "A single Query only returns a result set that fits within the 1 MB size limit". */
export const QUERY_PAGE_BYTES = 1024 * 1024;

export class SimDynamoDb implements SimService {
  readonly name = 'dynamodb';
  readonly hostPrefix = 'dynamodb';
  private readonly tables = new Map<string, Table>();

  constructor(private readonly options: { readonly accountId: string; readonly region: string }) {}

  /** Creates a table as `CreateTable` would (control-plane helper for tests and the bench). */
  createTable(definition: {
    name: string;
    partitionKey: string;
    sortKey?: string;
    attributeTypes: Record<string, 'S' | 'N'>;
    indexes?: readonly GsiDefinition[];
  }): void {
    if (this.tables.has(definition.name)) {
      throw new SimAwsError('ResourceInUseException', `Table already exists: ${definition.name}`);
    }
    this.tables.set(definition.name, {
      name: definition.name,
      partitionKey: definition.partitionKey,
      ...(definition.sortKey ? { sortKey: definition.sortKey } : {}),
      attributeTypes: definition.attributeTypes,
      indexes: definition.indexes ?? [],
      items: new Map(),
    });
  }

  /** Every item of a table, in no particular order (for assertions). */
  itemsOf(tableName: string): Item[] {
    return [...this.table(tableName).items.values()].map((item) => structuredClone(item));
  }

  /** Writes an item directly, as another writer (the future watch) would (for tests). */
  putItemDirectly(tableName: string, item: Item): void {
    const table = this.table(tableName);
    table.items.set(storageKey(table, item), structuredClone(item));
  }

  tableArn(tableName: string): string {
    return `arn:aws:dynamodb:${this.options.region}:${this.options.accountId}:table/${tableName}`;
  }

  handle(operation: string, input: any): unknown {
    switch (operation) {
      case 'CreateTable':
        return this.createTableOperation(input);
      case 'PutItem':
        return this.putItem(input);
      case 'GetItem':
        return this.getItem(input);
      case 'DeleteItem':
        return this.deleteItem(input);
      case 'UpdateItem':
        return this.updateItem(input);
      case 'Query':
        return this.query(input);
      case 'TransactWriteItems':
        return this.transactWriteItems(input);
      default:
        throw new SimAwsError('UnknownOperationException', `simulated DynamoDB does not implement ${operation}`);
    }
  }

  private createTableOperation(input: any): unknown {
    const keyOf = (schema: any[], type: string): string | undefined =>
      schema.find((k: any) => k.KeyType === type)?.AttributeName;
    const attributeTypes = Object.fromEntries(
      (input.AttributeDefinitions ?? []).map((d: any) => [d.AttributeName, d.AttributeType]),
    ) as Record<string, 'S' | 'N'>;
    const partitionKey = keyOf(input.KeySchema ?? [], 'HASH');
    if (!partitionKey) throw new SimAwsError('ValidationException', 'KeySchema needs a HASH key');
    const sortKey = keyOf(input.KeySchema, 'RANGE');
    this.createTable({
      name: input.TableName,
      partitionKey,
      ...(sortKey ? { sortKey } : {}),
      attributeTypes,
      indexes: (input.GlobalSecondaryIndexes ?? []).map((gsi: any) => {
        const gsiSortKey = keyOf(gsi.KeySchema, 'RANGE');
        return {
          name: gsi.IndexName,
          partitionKey: keyOf(gsi.KeySchema, 'HASH')!,
          ...(gsiSortKey ? { sortKey: gsiSortKey } : {}),
          projection: gsi.Projection?.ProjectionType === 'KEYS_ONLY' ? 'KEYS_ONLY' : 'ALL',
        };
      }),
    });
    return { TableDescription: { TableName: input.TableName, TableStatus: 'ACTIVE' } };
  }

  private putItem(input: any): unknown {
    const table = this.table(input.TableName);
    const item = input.Item as Item;
    this.validateKeys(table, item);
    const key = storageKey(table, item);
    this.checkCondition(input, table.items.get(key));
    table.items.set(key, structuredClone(item));
    return {};
  }

  private getItem(input: any): unknown {
    const table = this.table(input.TableName);
    this.validateKeys(table, input.Key);
    const item = table.items.get(storageKey(table, input.Key));
    return item ? { Item: structuredClone(item) } : {};
  }

  private deleteItem(input: any): unknown {
    const table = this.table(input.TableName);
    this.validateKeys(table, input.Key);
    const key = storageKey(table, input.Key);
    this.checkCondition(input, table.items.get(key));
    table.items.delete(key);
    return {};
  }

  private updateItem(input: any): unknown {
    const table = this.table(input.TableName);
    this.validateKeys(table, input.Key);
    const key = storageKey(table, input.Key);
    const used = new Usage();
    const current = table.items.get(key);
    const assignments = parseSetExpression(String(input.UpdateExpression ?? ''), input, used);
    const condition = input.ConditionExpression
      ? parseCondition(String(input.ConditionExpression), input, used)
      : undefined;
    used.refuseUnused(input);
    if (condition && !evaluate(condition, current ?? {})) throw conditionalCheckFailed();
    return this.applyUpdate(table, input, current, assignments);
  }

  private applyUpdate(table: Table, input: any, current: Item | undefined, assignments: [string, AttributeValue][]) {
    const key = storageKey(table, input.Key);
    const next: Item = { ...structuredClone(current ?? {}), ...structuredClone(input.Key as Item) };
    for (const [name, value] of assignments) {
      if (name === table.partitionKey || name === table.sortKey) {
        throw new SimAwsError(
          'ValidationException',
          `Cannot update attribute ${name}. This attribute is part of the key`,
        );
      }
      next[name] = structuredClone(value);
    }
    this.validateIndexKeyTypes(table, next);
    table.items.set(key, next);
    // ReturnValues: UPDATED_OLD answers the updated attributes as they were (none for a new item), ALL_OLD the item.
    if (input.ReturnValues === 'ALL_OLD' && current) return { Attributes: structuredClone(current) };
    if (input.ReturnValues === 'UPDATED_OLD' && current) {
      const old = Object.fromEntries(
        assignments
          .map(([n]) => n)
          .filter((n) => current[n])
          .map((n) => [n, current[n]!]),
      );
      return Object.keys(old).length > 0 ? { Attributes: structuredClone(old) } : {};
    }
    return {};
  }

  /**
   * All or nothing: every condition is evaluated first; if any is false nothing is written and the answer is
   * `TransactionCanceledException` with one `CancellationReasons` entry per action, in order (`None` or
   * `ConditionalCheckFailed`). Only `Update` actions; two actions on one item are refused.
   * See: https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html
   */
  private transactWriteItems(input: any): unknown {
    const actions = (input.TransactItems ?? []) as any[];
    if (actions.length === 0 || actions.length > 100) {
      throw new SimAwsError('ValidationException', 'TransactItems must hold 1 to 100 actions');
    }
    const seen = new Set<string>();
    const prepared = actions.map((action) => {
      const update = action.Update;
      if (!update) throw new SimAwsError('ValidationException', 'simulated TransactWriteItems takes Update only');
      const table = this.table(update.TableName);
      this.validateKeys(table, update.Key);
      const key = `${table.name}|${storageKey(table, update.Key)}`;
      if (seen.has(key)) {
        throw new SimAwsError(
          'ValidationException',
          'Transaction request cannot include multiple operations on one item',
        );
      }
      seen.add(key);
      const used = new Usage();
      const assignments = parseSetExpression(String(update.UpdateExpression ?? ''), update, used);
      const condition = update.ConditionExpression
        ? parseCondition(String(update.ConditionExpression), update, used)
        : undefined;
      used.refuseUnused(update);
      const current = table.items.get(storageKey(table, update.Key));
      return { table, update, current, assignments, holds: !condition || evaluate(condition, current ?? {}) };
    });
    if (prepared.some((p) => !p.holds)) {
      const reasons = prepared.map((p) =>
        p.holds ? { Code: 'None' } : { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' },
      );
      throw new SimAwsError(
        'TransactionCanceledException',
        `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
        400,
        { CancellationReasons: reasons },
      );
    }
    for (const p of prepared) this.applyUpdate(p.table, p.update, p.current, p.assignments);
    return {};
  }

  private query(input: any): unknown {
    const table = this.table(input.TableName);
    const index = input.IndexName ? table.indexes.find((gsi) => gsi.name === input.IndexName) : undefined;
    if (input.IndexName && !index) {
      throw new SimAwsError('ValidationException', `The table does not have the specified index: ${input.IndexName}`);
    }
    const schema: KeySchema = index ?? table;
    const used = new Usage();
    const condition = parseCondition(String(input.KeyConditionExpression ?? ''), input, used);
    const projection = projectionOf(input, used);
    used.refuseUnused(input);
    const partitionValue = partitionKeyValue(condition, schema.partitionKey);
    if (partitionValue === undefined) {
      throw new SimAwsError('ValidationException', `Query condition missed key schema element: ${schema.partitionKey}`);
    }
    const candidates = [...table.items.values()].filter(
      (item) =>
        item[schema.partitionKey] !== undefined &&
        (!schema.sortKey || item[schema.sortKey] !== undefined) &&
        sameValue(item[schema.partitionKey]!, partitionValue) &&
        evaluate(condition, item),
    );
    const order = (item: Item): AttributeValue[] =>
      [schema.sortKey, table.sortKey === schema.sortKey ? undefined : table.partitionKey, table.sortKey]
        .filter((name): name is string => name !== undefined)
        .map((name) => item[name] ?? { S: '' });
    candidates.sort((a, b) => compareTuples(order(a), order(b)));
    if (input.ScanIndexForward === false) candidates.reverse();

    let start = 0;
    if (input.ExclusiveStartKey) {
      const after = order(input.ExclusiveStartKey as Item);
      const forward = input.ScanIndexForward !== false;
      start = candidates.findIndex((item) => {
        const c = compareTuples(order(item), after);
        return forward ? c > 0 : c < 0;
      });
      if (start === -1) start = candidates.length;
    }
    const limit = typeof input.Limit === 'number' ? input.Limit : Number.POSITIVE_INFINITY;
    const page: Item[] = [];
    let bytes = 0;
    let i = start;
    for (; i < candidates.length && page.length < limit && bytes < QUERY_PAGE_BYTES; i++) {
      const projected = project(candidates[i]!, table, index);
      bytes += itemBytes(projected);
      page.push(projection ? pick(projected, projection) : projected);
    }
    const last = page.at(-1);
    const more = i < candidates.length || (page.length === limit && last !== undefined);
    const keyNames = [table.partitionKey, table.sortKey, index?.partitionKey, index?.sortKey].filter(
      (name): name is string => name !== undefined,
    );
    return {
      Items: page,
      Count: page.length,
      ScannedCount: page.length,
      ...(more && last ? { LastEvaluatedKey: Object.fromEntries(keyNames.map((name) => [name, last[name]!])) } : {}),
    };
  }

  private table(name: unknown): Table {
    const table = this.tables.get(String(name));
    if (!table) throw new SimAwsError('ResourceNotFoundException', 'Requested resource not found');
    return table;
  }

  private validateKeys(table: Table, item: Item | undefined): void {
    for (const name of [table.partitionKey, table.sortKey]) {
      if (!name) continue;
      const value = item?.[name];
      const type = table.attributeTypes[name] ?? 'S';
      if (!value || !(type in value)) {
        throw new SimAwsError(
          'ValidationException',
          `One or more parameter values were invalid: Missing the key ${name} in the item`,
        );
      }
    }
    if (item) this.validateIndexKeyTypes(table, item);
  }

  /** "One or more parameter values were invalid: Type mismatch for Index Key …" */
  private validateIndexKeyTypes(table: Table, item: Item): void {
    for (const index of table.indexes) {
      for (const name of [index.partitionKey, index.sortKey]) {
        if (!name || item[name] === undefined) continue;
        const type = table.attributeTypes[name] ?? 'S';
        if (!(type in item[name]!)) {
          throw new SimAwsError(
            'ValidationException',
            `One or more parameter values were invalid: Type mismatch for Index Key ${name} Expected: ${type}`,
          );
        }
      }
    }
  }

  private checkCondition(input: any, current: Item | undefined): void {
    const used = new Usage();
    const condition = input.ConditionExpression
      ? parseCondition(String(input.ConditionExpression), input, used)
      : undefined;
    used.refuseUnused(input);
    if (condition && !evaluate(condition, current ?? {})) throw conditionalCheckFailed();
  }
}

function conditionalCheckFailed(): SimAwsError {
  return new SimAwsError('ConditionalCheckFailedException', 'The conditional request failed');
}

function storageKey(table: Table, item: Item): string {
  return JSON.stringify([item[table.partitionKey], table.sortKey ? item[table.sortKey] : null]);
}

function project(item: Item, table: Table, index: GsiDefinition | undefined): Item {
  if (!index || index.projection === 'ALL') return structuredClone(item);
  const names = [table.partitionKey, table.sortKey, index.partitionKey, index.sortKey];
  return Object.fromEntries(
    names
      .filter((n): n is string => n !== undefined && item[n] !== undefined)
      .map((n) => [n, structuredClone(item[n]!)]),
  );
}

/** Item size as the documentation counts it, roughly: attribute names plus values (UTF-8 bytes). */
function itemBytes(item: Item): number {
  return Object.entries(item).reduce((sum, [name, value]) => sum + Buffer.byteLength(name) + valueBytes(value), 0);
}

function valueBytes(value: AttributeValue): number {
  if (typeof value.S === 'string') return Buffer.byteLength(value.S);
  if (typeof value.N === 'string') return Math.ceil(value.N.length / 2) + 1;
  if (Array.isArray(value.L)) return 3 + (value.L as AttributeValue[]).reduce((s, v) => s + 1 + valueBytes(v), 0);
  return Buffer.byteLength(JSON.stringify(value));
}

function sameValue(a: AttributeValue, b: AttributeValue): boolean {
  return compareValues(a, b) === 0;
}

/** -1, 0, 1 for two S or two N values; undefined when they cannot be compared (different or other types). */
function compareValues(a: AttributeValue, b: AttributeValue): number | undefined {
  if (typeof a.N === 'string' && typeof b.N === 'string') return Math.sign(Number(a.N) - Number(b.N));
  if (typeof a.S === 'string' && typeof b.S === 'string') return a.S < b.S ? -1 : a.S > b.S ? 1 : 0;
  return undefined;
}

function compareTuples(a: readonly AttributeValue[], b: readonly AttributeValue[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = compareValues(a[i]!, b[i]!) ?? 0;
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

// -----------------------------------------------------------------------------------------------------------
// Expressions: a small tokenizer and recursive-descent parser for the forms listed in the header.

type Operand = { readonly path: string } | { readonly value: AttributeValue };
type Condition =
  | { readonly op: 'and' | 'or'; readonly left: Condition; readonly right: Condition }
  | { readonly op: 'not'; readonly inner: Condition }
  | { readonly op: 'compare'; readonly comparator: string; readonly left: Operand; readonly right: Operand }
  | { readonly op: 'between'; readonly subject: Operand; readonly low: Operand; readonly high: Operand }
  | { readonly op: 'exists' | 'not-exists'; readonly path: string }
  | { readonly op: 'begins-with'; readonly subject: Operand; readonly prefix: Operand };

/**
 * The top-level attribute names a `ProjectionExpression` asks for (`#placeholder` or a plain name, comma-separated;
 * nested paths are not modelled), its placeholders marked used; undefined without one. A Query answers only those
 * attributes. See: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ProjectionExpressions.html
 */
function projectionOf(input: any, used: Usage): string[] | undefined {
  if (input.ProjectionExpression === undefined) return undefined;
  return String(input.ProjectionExpression)
    .split(',')
    .map((part) => part.trim())
    .map((part) => {
      if (!/^#?[A-Za-z0-9_]+$/.test(part)) {
        throw new SimAwsError('ValidationException', `Invalid ProjectionExpression (not modelled here): ${part}`);
      }
      if (!part.startsWith('#')) return part;
      const name = input.ExpressionAttributeNames?.[part];
      if (name === undefined) {
        throw new SimAwsError(
          'ValidationException',
          `An expression attribute name used in the document path is not defined; attribute name: ${part}`,
        );
      }
      used.names.add(part);
      return String(name);
    });
}

function pick(item: Item, names: readonly string[]): Item {
  return Object.fromEntries(names.filter((name) => item[name] !== undefined).map((name) => [name, item[name]!]));
}

/** Which placeholders the expressions of one request used, to refuse unused ones as DynamoDB does. */
class Usage {
  readonly names = new Set<string>();
  readonly values = new Set<string>();

  refuseUnused(input: any): void {
    const unusedValues = Object.keys(input.ExpressionAttributeValues ?? {}).filter((k) => !this.values.has(k));
    if (unusedValues.length > 0) {
      throw new SimAwsError(
        'ValidationException',
        `Value provided in ExpressionAttributeValues unused in expressions: keys: {${unusedValues.join(', ')}}`,
      );
    }
    const unusedNames = Object.keys(input.ExpressionAttributeNames ?? {}).filter((k) => !this.names.has(k));
    if (unusedNames.length > 0) {
      throw new SimAwsError(
        'ValidationException',
        `Value provided in ExpressionAttributeNames unused in expressions: keys: {${unusedNames.join(', ')}}`,
      );
    }
  }
}

function tokenize(text: string): string[] {
  const tokens = text.match(/<>|<=|>=|[=<>(),]|[#:]?[A-Za-z0-9_]+|\S/g) ?? [];
  const bad = tokens.find((t) => /^[^#:A-Za-z0-9_=<>(),]/.test(t));
  if (bad) throw new SimAwsError('ValidationException', `Invalid expression: unsupported token "${bad}" (simulation)`);
  return tokens;
}

class Parser {
  private position = 0;

  constructor(
    private readonly tokens: string[],
    private readonly input: any,
    private readonly used: Usage,
  ) {}

  peek(): string | undefined {
    return this.tokens[this.position];
  }

  next(): string {
    const token = this.tokens[this.position++];
    if (token === undefined) throw new SimAwsError('ValidationException', 'Invalid expression: unexpected end');
    return token;
  }

  expect(token: string): void {
    const got = this.next();
    if (got.toUpperCase() !== token) {
      throw new SimAwsError('ValidationException', `Invalid expression: expected ${token}, got ${got}`);
    }
  }

  keyword(word: string): boolean {
    if (this.peek()?.toUpperCase() !== word) return false;
    this.position++;
    return true;
  }

  done(): boolean {
    return this.position >= this.tokens.length;
  }

  condition(): Condition {
    let left = this.conjunction();
    while (this.keyword('OR')) left = { op: 'or', left, right: this.conjunction() };
    return left;
  }

  private conjunction(): Condition {
    let left = this.negation();
    while (this.keyword('AND')) left = { op: 'and', left, right: this.negation() };
    return left;
  }

  private negation(): Condition {
    if (this.keyword('NOT')) return { op: 'not', inner: this.negation() };
    return this.primary();
  }

  private primary(): Condition {
    if (this.peek() === '(') {
      this.next();
      const inner = this.condition();
      this.expect(')');
      return inner;
    }
    const fn = this.peek()?.toLowerCase();
    if (fn === 'attribute_exists' || fn === 'attribute_not_exists' || fn === 'begins_with') {
      this.next();
      this.expect('(');
      const first = this.operand();
      if (fn === 'begins_with') {
        this.expect(',');
        const prefix = this.operand();
        this.expect(')');
        return { op: 'begins-with', subject: first, prefix };
      }
      this.expect(')');
      if (!('path' in first)) throw new SimAwsError('ValidationException', `${fn} needs an attribute path`);
      return { op: fn === 'attribute_exists' ? 'exists' : 'not-exists', path: first.path };
    }
    const left = this.operand();
    if (this.keyword('BETWEEN')) {
      const low = this.operand();
      this.expect('AND');
      return { op: 'between', subject: left, low, high: this.operand() };
    }
    const comparator = this.next();
    if (!['=', '<>', '<', '<=', '>', '>='].includes(comparator)) {
      throw new SimAwsError('ValidationException', `Invalid expression: unexpected ${comparator}`);
    }
    return { op: 'compare', comparator, left, right: this.operand() };
  }

  operand(): Operand {
    const token = this.next();
    if (token.startsWith(':')) {
      const value = this.input.ExpressionAttributeValues?.[token];
      if (!value) {
        throw new SimAwsError(
          'ValidationException',
          `An expression attribute value used in expression is not defined; attribute value: ${token}`,
        );
      }
      this.used.values.add(token);
      return { value };
    }
    return { path: this.path(token) };
  }

  path(token: string): string {
    if (!token.startsWith('#')) {
      if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(token)) {
        throw new SimAwsError('ValidationException', `Invalid expression: bad attribute name ${token}`);
      }
      return token;
    }
    const name = this.input.ExpressionAttributeNames?.[token];
    if (!name) {
      throw new SimAwsError(
        'ValidationException',
        `An expression attribute name used in the document path is not defined; attribute name: ${token}`,
      );
    }
    this.used.names.add(token);
    return name;
  }
}

function parseCondition(text: string, input: any, used: Usage): Condition {
  const parser = new Parser(tokenize(text), input, used);
  const condition = parser.condition();
  if (!parser.done()) throw new SimAwsError('ValidationException', `Invalid expression: trailing ${parser.peek()}`);
  return condition;
}

function parseSetExpression(text: string, input: any, used: Usage): [string, AttributeValue][] {
  const parser = new Parser(tokenize(text), input, used);
  parser.expect('SET');
  const assignments: [string, AttributeValue][] = [];
  do {
    const name = parser.path(parser.next());
    parser.expect('=');
    const value = parser.operand();
    if (!('value' in value)) throw new SimAwsError('ValidationException', 'SET from another attribute: not simulated');
    assignments.push([name, value.value]);
  } while (parser.peek() === ',' && parser.next());
  if (!parser.done()) throw new SimAwsError('ValidationException', `UpdateExpression: unsupported ${parser.peek()}`);
  return assignments;
}

function resolve(operand: Operand, item: Item): AttributeValue | undefined {
  return 'path' in operand ? item[operand.path] : operand.value;
}

function evaluate(condition: Condition, item: Item): boolean {
  switch (condition.op) {
    case 'and':
      return evaluate(condition.left, item) && evaluate(condition.right, item);
    case 'or':
      return evaluate(condition.left, item) || evaluate(condition.right, item);
    case 'not':
      return !evaluate(condition.inner, item);
    case 'exists':
      return item[condition.path] !== undefined;
    case 'not-exists':
      return item[condition.path] === undefined;
    case 'begins-with': {
      const subject = resolve(condition.subject, item);
      const prefix = resolve(condition.prefix, item);
      return typeof subject?.S === 'string' && typeof prefix?.S === 'string' && subject.S.startsWith(prefix.S);
    }
    case 'between': {
      const subject = resolve(condition.subject, item);
      const low = resolve(condition.low, item);
      const high = resolve(condition.high, item);
      if (!subject || !low || !high) return false;
      const a = compareValues(subject, low);
      const b = compareValues(subject, high);
      return a !== undefined && b !== undefined && a >= 0 && b <= 0;
    }
    case 'compare': {
      const left = resolve(condition.left, item);
      const right = resolve(condition.right, item);
      // A missing attribute or values of different types compare false here; the index never relies on either.
      if (!left || !right) return false;
      const c = compareValues(left, right);
      if (c === undefined) return false;
      return { '=': c === 0, '<>': c !== 0, '<': c < 0, '<=': c <= 0, '>': c > 0, '>=': c >= 0 }[condition.comparator]!;
    }
  }
}

/** The value a key condition requires of the partition key (`pk = :v`, alone or ANDed with a sort key condition). */
function partitionKeyValue(condition: Condition, partitionKey: string): AttributeValue | undefined {
  if (condition.op === 'and') {
    return partitionKeyValue(condition.left, partitionKey) ?? partitionKeyValue(condition.right, partitionKey);
  }
  if (condition.op !== 'compare' || condition.comparator !== '=') return undefined;
  if ('path' in condition.left && condition.left.path === partitionKey && 'value' in condition.right) {
    return condition.right.value;
  }
  return undefined;
}
