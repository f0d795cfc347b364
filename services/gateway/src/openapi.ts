import type { Route } from './routes.js';
import { idShapes, rulesOf, withRules } from './field-rules.js';
import { taxonomy } from './taxonomy-schemas.js';

/** The parts of a `google.protobuf.FileDescriptorSet` (buf's JSON image) this reads. */
export interface DescriptorSet {
  readonly file: readonly FileDescriptor[];
}
export interface FileDescriptor {
  readonly name: string;
  readonly package?: string;
  readonly messageType?: readonly MessageDescriptor[];
  readonly enumType?: readonly EnumDescriptor[];
  readonly service?: readonly { name: string; method: readonly MethodDescriptor[] }[];
  readonly sourceCodeInfo?: { location?: readonly { path?: readonly number[]; leadingComments?: string }[] };
}
export interface MessageDescriptor {
  readonly name: string;
  readonly field?: readonly FieldDescriptor[];
  readonly nestedType?: readonly MessageDescriptor[];
  readonly enumType?: readonly EnumDescriptor[];
  readonly options?: { mapEntry?: boolean };
}
export interface FieldDescriptor {
  readonly name: string;
  readonly jsonName?: string;
  readonly label?: string;
  readonly type: string;
  readonly typeName?: string;
  /** Extension options by name in brackets, e.g. `[beacon.api.v1.field]`. */
  readonly options?: Readonly<Record<string, unknown>>;
}
interface EnumDescriptor {
  readonly name: string;
  readonly value: readonly {
    name: string;
    number?: number;
    options?: Readonly<Record<string, unknown>>;
  }[];
}
export interface MethodDescriptor {
  readonly name: string;
  readonly inputType: string;
  readonly outputType: string;
  /** buf's JSON image names extension options in brackets, e.g. `[google.api.http]`. */
  readonly options?: Readonly<Record<string, unknown>>;
}

type Schema = Record<string, unknown>;

/** Files that describe the RPCs (their options), not messages a client sends or receives. */
const ANNOTATION_FILES = new Set([
  'google/protobuf/descriptor.proto',
  'google/api/http.proto',
  'google/api/annotations.proto',
  'beacon/api/v1/rest.proto',
  'beacon/api/v1/field_rules.proto',
]);

const INTEGER = { anyOf: [{ type: 'integer' }, { type: 'string', pattern: '^-?[0-9]+$' }] };
/** 32-bit integers travel as JSON numbers; out of range is a client error, not a wrapped value. */
const INT32 = {
  anyOf: [
    { type: 'integer', minimum: -(2 ** 31), maximum: 2 ** 31 - 1 },
    { type: 'string', pattern: '^-?[0-9]{1,10}$' },
  ],
};
const UINT32 = {
  anyOf: [
    { type: 'integer', minimum: 0, maximum: 2 ** 32 - 1 },
    { type: 'string', pattern: '^[0-9]{1,10}$' },
  ],
};
const SCALARS: Record<string, Schema> = {
  TYPE_STRING: { type: 'string' },
  TYPE_BOOL: { type: 'boolean' },
  TYPE_BYTES: { type: 'string', contentEncoding: 'base64' },
  TYPE_DOUBLE: { type: 'number' },
  TYPE_FLOAT: { type: 'number' },
  TYPE_INT32: INT32,
  TYPE_SINT32: INT32,
  TYPE_SFIXED32: INT32,
  TYPE_UINT32: UINT32,
  TYPE_FIXED32: UINT32,
  TYPE_INT64: INTEGER,
  TYPE_SINT64: INTEGER,
  TYPE_SFIXED64: INTEGER,
  TYPE_UINT64: INTEGER,
  TYPE_FIXED64: INTEGER,
};

/** Well-known types have their own JSON forms in the proto3 mapping. */
const WELL_KNOWN: Record<string, Schema> = {
  'google.protobuf.Timestamp': { type: 'string', format: 'date-time' },
  'google.protobuf.Any': { type: 'object' },
};

/**
 * OpenAPI 3.1 for the REST routes, with a JSON Schema per message of the proto3 JSON mapping.
 * Schemas are strict — unknown members are refused (`additionalProperties: false`) — so the
 * gateway validates requests with the same document it publishes. Both the JSON name and the
 * proto field name are accepted, as the mapping asks of parsers.
 */
export function buildOpenApi(descriptors: DescriptorSet, routes: readonly Route[], version: string): Schema {
  const schemas: Record<string, Schema> = {};
  const shapes = idShapes(descriptors);

  for (const file of descriptors.file) {
    if (ANNOTATION_FILES.has(file.name)) continue;
    const prefix = file.package ? `${file.package}.` : '';
    const commentAt = (path: number[]) =>
      file.sourceCodeInfo?.location
        ?.find((l) => l.path?.join('.') === path.join('.'))
        ?.leadingComments?.trim();
    const addEnum = (e: EnumDescriptor, fullName: string, path: number[]) => {
      schemas[fullName] = {
        // By name or by number, and only the ones defined: an unknown value is the client's error.
        anyOf: [
          { type: 'string', enum: e.value.map((v) => v.name) },
          { type: 'integer', enum: e.value.map((v) => v.number ?? 0) },
        ],
        ...describe(commentAt(path)),
      };
    };
    const addMessage = (m: MessageDescriptor, fullName: string, path: number[]) => {
      if (WELL_KNOWN[fullName]) return;
      m.nestedType?.forEach((n, i) => addMessage(n, `${fullName}.${n.name}`, [...path, 3, i]));
      m.enumType?.forEach((e, i) => addEnum(e, `${fullName}.${e.name}`, [...path, 4, i]));
      if (m.options?.mapEntry) return;
      const properties: Record<string, Schema> = {};
      const required: string[] = [];
      m.field?.forEach((field, i) => {
        const comment = commentAt([...path, 2, i]);
        const jsonName = field.jsonName ?? field.name;
        // Documented as always present: written even at its zero value (`rest/always-present.ts`).
        const always = comment !== undefined && ALWAYS_PRESENT.test(comment);
        const rules = rulesOf(field);
        // Either name may carry a field, so only a field with one name can be listed as required.
        if (always || (rules?.required && field.name === jsonName)) required.push(jsonName);
        const schema = {
          ...(rules
            ? withRules(fieldSchema(field, descriptors), rules, shapes)
            : fieldSchema(field, descriptors)),
          ...(always ? { default: zeroValue(field, fullName) } : {}),
          ...describe(comment),
          ...taxonomy(fullName, field.name),
        };
        properties[jsonName] = schema;
        if (field.name !== jsonName) properties[field.name] = { ...schema, deprecated: true };
      });
      schemas[fullName] = {
        type: 'object',
        additionalProperties: false,
        properties,
        ...(required.length > 0 ? { required } : {}),
        ...describe(commentAt(path)),
      };
    };
    file.messageType?.forEach((m, i) => addMessage(m, `${prefix}${m.name}`, [4, i]));
    file.enumType?.forEach((e, i) => addEnum(e, `${prefix}${e.name}`, [5, i]));
  }

  const paths: Record<string, Record<string, Schema>> = {};
  for (const route of routes) {
    const { method, comment } = findMethod(descriptors, route);
    const input = method.inputType.replace(/^\./, '');
    const output = method.outputType.replace(/^\./, '');
    const pathParams = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
    const inputSchema = schemas[input] as { properties: Record<string, Schema> };
    const parameters: Schema[] = pathParams.map((name) => {
      // The field's own schema: an id's shape is stated on the path as in a body.
      const { deprecated: _deprecated, ...field } = inputSchema.properties[name] ?? { type: 'string' };
      return { name, in: 'path', required: true, schema: stripDescription(field) };
    });
    if (!route.body) {
      for (const [name, schema] of Object.entries(inputSchema.properties)) {
        if (pathParams.includes(name) || schema['deprecated']) continue;
        // The field's comment documents the parameter (a filter's grammar, a page token's use).
        parameters.push({
          name,
          in: 'query',
          required: false,
          ...(typeof schema['description'] === 'string' ? { description: schema['description'] } : {}),
          schema: stripDescription(schema),
        });
      }
    }
    if (route.idempotent) {
      parameters.push({
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        description: 'Retrying with the same key returns the first result instead of creating again.',
        schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{8,128}$' },
      });
    }
    const openApiPath = route.path.replace(/\{(\w+)\}/g, (_, name: string) => `{${name}}`);
    paths[openApiPath] ??= {};
    paths[openApiPath][route.method.toLowerCase()] = {
      operationId: route.rpc,
      summary: route.summary,
      ...describe(comment),
      tags: [route.service.split('.').at(-1)],
      parameters,
      ...(route.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: { $ref: `#/components/schemas/${input}` } } },
            },
          }
        : {}),
      responses: {
        [route.created ? '201' : '200']: {
          description: 'OK',
          content: { 'application/json': { schema: { $ref: `#/components/schemas/${output}` } } },
        },
        default: {
          description: 'An error (RFC 9457 problem details)',
          content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
        },
      },
    };
  }

  schemas['Problem'] = {
    type: 'object',
    description: 'RFC 9457 problem details, with the gRPC status and any field violations.',
    properties: {
      type: { type: 'string' },
      title: { type: 'string' },
      status: { type: 'integer' },
      detail: { type: 'string' },
      instance: { type: 'string' },
      grpcStatus: { type: 'string' },
      violations: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            field: { type: 'string' },
            description: { type: 'string' },
            reason: { type: 'string' },
          },
        },
      },
    },
    required: ['type', 'title', 'status'],
  };

  return {
    openapi: '3.1.0',
    info: {
      title: 'Beacon API',
      version,
      description:
        'Multi-agency cyber-incident coordination. The same operations are served over gRPC; ' +
        'JSON follows the proto3 canonical mapping. Authenticate with `Authorization: Bearer <JWT>`.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas,
    },
  };
}

/** A field comment that starts a sentence with this promises the field in every response. */
const ALWAYS_PRESENT = /(^|\.\s+)Always present\b/;

/** The proto3 JSON form of a field's zero value: what the mapping leaves out. */
function zeroValue(field: FieldDescriptor, message: string): unknown {
  if (field.label === 'LABEL_REPEATED' || field.type === 'TYPE_MESSAGE' || field.type === 'TYPE_ENUM') {
    throw new Error(`${message}.${field.name}: only singular scalars can be documented as always present`);
  }
  if (field.type === 'TYPE_STRING' || field.type === 'TYPE_BYTES') return '';
  if (field.type === 'TYPE_BOOL') return false;
  // 64-bit integers are strings in the mapping.
  return SCALARS[field.type] === INTEGER ? '0' : 0;
}

function fieldSchema(field: FieldDescriptor, descriptors: DescriptorSet): Schema {
  const repeated = field.label === 'LABEL_REPEATED';
  let single: Schema;
  if (field.type === 'TYPE_MESSAGE' || field.type === 'TYPE_ENUM' || field.type === 'TYPE_GROUP') {
    const name = field.typeName!.replace(/^\./, '');
    const map = mapEntry(descriptors, name);
    if (map && repeated) {
      return { type: 'object', additionalProperties: fieldSchema(map.value, descriptors) };
    }
    single = WELL_KNOWN[name] ?? { $ref: `#/components/schemas/${name}` };
  } else {
    single = SCALARS[field.type] ?? {};
  }
  return repeated ? { type: 'array', items: single } : single;
}

function mapEntry(descriptors: DescriptorSet, fullName: string): { value: FieldDescriptor } | undefined {
  for (const file of descriptors.file) {
    const prefix = file.package ? `${file.package}.` : '';
    const search = (
      messages: readonly MessageDescriptor[] | undefined,
      parent: string,
    ): MessageDescriptor | undefined => {
      for (const m of messages ?? []) {
        const name = `${parent}${m.name}`;
        if (name === fullName) return m;
        const nested = search(m.nestedType, `${name}.`);
        if (nested) return nested;
      }
      return undefined;
    };
    const found = search(file.messageType, prefix);
    if (found?.options?.mapEntry) return { value: found.field!.find((f) => f.name === 'value')! };
  }
  return undefined;
}

function findMethod(
  descriptors: DescriptorSet,
  route: Route,
): { method: MethodDescriptor; comment: string | undefined } {
  for (const file of descriptors.file) {
    for (const [s, service] of (file.service ?? []).entries()) {
      if (`${file.package}.${service.name}` !== route.service) continue;
      const m = service.method.findIndex((candidate) => candidate.name === route.rpc);
      if (m < 0) continue;
      const comment = file.sourceCodeInfo?.location
        ?.find((l) => l.path?.join('.') === `6.${s}.2.${m}`)
        ?.leadingComments?.trim();
      return { method: service.method[m]!, comment };
    }
  }
  throw new Error(`no RPC ${route.service}/${route.rpc} in the contracts`);
}

const describe = (comment: string | undefined) =>
  comment ? { description: comment.replace(/\s*\n\s*/g, ' ') } : {};

function stripDescription(schema: Schema): Schema {
  const { description: _description, ...rest } = schema;
  return rest;
}
