/**
 * The part of JSON Schema a skill's tool inputs may use, checked at load
 * (an unsupported keyword refuses the skill, so nothing is silently
 * unchecked) and applied to every call's input before it reaches the skill.
 */

const KEYWORDS = new Set([
  'type',
  'description',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'enum',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'default',
]);
const TYPES = new Set(['object', 'string', 'number', 'integer', 'boolean', 'array']);

export type JsonSchema = Record<string, unknown>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Problems with a schema ([] when it is usable); `at` names where. */
export function schemaProblems(schema: unknown, at = 'input'): string[] {
  if (!isRecord(schema)) return [`${at}: must be an object`];
  const problems: string[] = [];
  for (const key of Object.keys(schema)) if (!KEYWORDS.has(key)) problems.push(`${at}: unsupported keyword "${key}"`);
  const type = schema.type;
  if (typeof type !== 'string' || !TYPES.has(type)) problems.push(`${at}: "type" must be one of ${[...TYPES].join(', ')}`);
  if (schema.properties !== undefined) {
    if (!isRecord(schema.properties)) problems.push(`${at}.properties: must be an object`);
    else for (const [name, sub] of Object.entries(schema.properties)) problems.push(...schemaProblems(sub, `${at}.${name}`));
  }
  if (schema.items !== undefined) problems.push(...schemaProblems(schema.items, `${at}[]`));
  if (schema.required !== undefined && !(Array.isArray(schema.required) && schema.required.every((r) => typeof r === 'string'))) {
    problems.push(`${at}.required: must be a list of names`);
  }
  if (schema.enum !== undefined && !Array.isArray(schema.enum)) problems.push(`${at}.enum: must be a list`);
  return problems;
}

function typeOf(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** Problems of `value` against a checked schema ([] when it fits). */
export function validate(schema: JsonSchema, value: unknown, at = 'input'): string[] {
  const type = schema.type as string;
  const actual = typeOf(value);
  if (!(actual === type || (type === 'number' && actual === 'integer'))) return [`${at}: expected ${type}, got ${actual}`];
  const problems: string[] = [];
  if (Array.isArray(schema.enum) && !schema.enum.some((e) => e === value)) {
    problems.push(`${at}: must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}`);
  }
  const num = (key: string) => (typeof schema[key] === 'number' ? (schema[key] as number) : undefined);
  if (typeof value === 'number') {
    const min = num('minimum');
    const max = num('maximum');
    if (min !== undefined && value < min) problems.push(`${at}: must be at least ${min}`);
    if (max !== undefined && value > max) problems.push(`${at}: must be at most ${max}`);
  }
  if (typeof value === 'string') {
    const min = num('minLength');
    const max = num('maxLength');
    if (min !== undefined && value.length < min) problems.push(`${at}: must have at least ${min} characters`);
    if (max !== undefined && value.length > max) problems.push(`${at}: must have at most ${max} characters`);
  }
  if (Array.isArray(value)) {
    const min = num('minItems');
    const max = num('maxItems');
    if (min !== undefined && value.length < min) problems.push(`${at}: must have at least ${min} items`);
    if (max !== undefined && value.length > max) problems.push(`${at}: must have at most ${max} items`);
    if (isRecord(schema.items)) value.forEach((item, i) => problems.push(...validate(schema.items as JsonSchema, item, `${at}[${i}]`)));
  }
  if (isRecord(value)) {
    const properties = isRecord(schema.properties) ? schema.properties : {};
    for (const name of Array.isArray(schema.required) ? (schema.required as string[]) : []) {
      if (value[name] === undefined) problems.push(`${at}.${name}: required`);
    }
    for (const [name, item] of Object.entries(value)) {
      const sub = properties[name];
      if (isRecord(sub)) problems.push(...validate(sub, item, `${at}.${name}`));
      else if (schema.additionalProperties === false) problems.push(`${at}.${name}: not allowed`);
    }
  }
  return problems;
}
