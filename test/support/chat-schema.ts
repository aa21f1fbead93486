/**
 * The documented schema of an Amazon Q Developer in chat applications custom notification, as a check for tests
 * (production code builds the form; only tests hold it to the schema).
 * See: https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html ("Event schema", "Parameter
 * details"): `version` must be "1.0" and `source` must be "custom" (both required); `id` a string; `content`
 * {textType (only "client-markdown" is supported), title, description, nextSteps: string[], keywords: string[]};
 * `metadata` {threadId, summary, eventType: strings, relatedResources: string[], additionalContext: an object of
 * strings}. The page lists no other keys.
 */

/** Every way `value` departs from the documented schema; empty when it conforms. */
export function chatSchemaProblems(value: unknown): string[] {
  const problems: string[] = [];
  const object = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const strings = (v: unknown) => Array.isArray(v) && v.every((item) => typeof item === 'string');
  const onlyKeys = (where: string, v: Record<string, unknown>, keys: readonly string[]) => {
    for (const key of Object.keys(v)) if (!keys.includes(key)) problems.push(`${where}.${key} is not in the schema`);
  };
  if (!object(value)) return ['the notification is not a JSON object'];
  onlyKeys('', value, ['version', 'source', 'id', 'content', 'metadata']);
  if (value.version !== '1.0') problems.push('version must be "1.0"');
  if (value.source !== 'custom') problems.push('source must be "custom"');
  if (value.id !== undefined && typeof value.id !== 'string') problems.push('id must be a string');
  const content = value.content;
  if (content !== undefined) {
    if (!object(content)) problems.push('content must be an object');
    else {
      onlyKeys('content', content, ['textType', 'title', 'description', 'nextSteps', 'keywords']);
      if (content.textType !== undefined && content.textType !== 'client-markdown')
        problems.push('content.textType must be "client-markdown"');
      for (const key of ['title', 'description'])
        if (content[key] !== undefined && typeof content[key] !== 'string')
          problems.push(`content.${key} must be a string`);
      for (const key of ['nextSteps', 'keywords'])
        if (content[key] !== undefined && !strings(content[key])) problems.push(`content.${key} must be strings`);
    }
  }
  const metadata = value.metadata;
  if (metadata !== undefined) {
    if (!object(metadata)) problems.push('metadata must be an object');
    else {
      onlyKeys('metadata', metadata, ['threadId', 'summary', 'eventType', 'relatedResources', 'additionalContext']);
      for (const key of ['threadId', 'summary', 'eventType'])
        if (metadata[key] !== undefined && typeof metadata[key] !== 'string')
          problems.push(`metadata.${key} must be a string`);
      if (metadata.relatedResources !== undefined && !strings(metadata.relatedResources))
        problems.push('metadata.relatedResources must be strings');
      const context = metadata.additionalContext;
      if (context !== undefined && !(object(context) && Object.values(context).every((v) => typeof v === 'string')))
        problems.push('metadata.additionalContext must be an object of strings');
    }
  }
  return problems;
}
