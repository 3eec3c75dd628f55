import {
  Kind,
  parse,
  print,
  visit,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';

// `graphql` is a required peer dependency of graphql-ws (and of Apollo Client), so every app that can call this
// helper already has it; a hand-written string rewrite would have to re-implement fragments, aliases, comments and
// string escapes to be safe. Only the language module (parse/visit/print) is used, which bundlers tree-shake.

/** Where a resumable stream keeps its cursor: the root field, its argument, and the event that carries it. */
interface ResumableField {
  argument: string;
  variableType: 'ID' | 'Int';
  /** The union member whose events advance the cursor. */
  eventType: string;
  /** The path inside that member to the cursor: `message { id }` or `version`. */
  path: readonly [string] | readonly [string, string];
}

const RESUMABLE: Readonly<Record<string, ResumableField>> = {
  roomEvents: { argument: 'after', variableType: 'ID', eventType: 'MessageSent', path: ['message', 'id'] },
  documentEvents: { argument: 'afterVersion', variableType: 'Int', eventType: 'DocumentEdited', path: ['version'] },
};

export type Cursor = string | number;

/** How one subscription document is sent and read so that a resubscription resumes where the app left off. */
export interface ResumePlan {
  /** The document to send: the app's, plus the cursor variable, argument and selection when they were missing. */
  readonly query: string;
  /** The variable that carries the cursor; the helper updates it in the payload graphql-ws re-sends on retry. */
  readonly variable: string;
  /** A cursor written as a literal in the app's document (moved into the variable), if any. */
  readonly literalCursor: Cursor | undefined;
  /** The cursor an event carries (undefined for events that do not advance it: presence, typing, cursors). */
  cursorOf(data: unknown): Cursor | undefined;
  /** Removes what the plan added to the selection, so the app gets exactly the shape it asked for. */
  strip(data: unknown): void;
  /** Negative when `a` comes before `b` in the stream. */
  compare(a: Cursor, b: Cursor): number;
}

/**
 * Message ids sort in send order "as numbers and as strings" (fixed-width counters); comparing lengths first keeps
 * that true for plain decimal ids too. Versions are integers.
 */
function compareCursors(a: Cursor, b: Cursor): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = String(a);
  const y = String(b);
  return x.length - y.length || (x < y ? -1 : x > y ? 1 : 0);
}

interface Found {
  field: FieldNode;
  /** The type condition the field sits under (undefined: the field's parent type itself). */
  on: string | undefined;
  /** A directive (`@include`, `@skip`, `@defer`) on the field or a fragment on the way: not always present. */
  conditional: boolean;
}

/** Every field of a selection set with the fragments expanded, each with the type condition it sits under. */
function fieldsOf(
  set: SelectionSetNode | undefined,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  on: string | undefined = undefined,
  conditional = false,
  seen: Set<string> = new Set(),
): Found[] {
  const found: Found[] = [];
  for (const selection of set?.selections ?? []) {
    const guarded = conditional || (selection.directives?.length ?? 0) > 0;
    if (selection.kind === Kind.FIELD) {
      found.push({ field: selection, on, conditional: guarded });
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      found.push(...fieldsOf(selection.selectionSet, fragments, selection.typeCondition?.name.value ?? on, guarded, seen));
    } else {
      const fragment = fragments.get(selection.name.value);
      if (!fragment || seen.has(fragment.name.value)) continue;
      seen.add(fragment.name.value);
      found.push(...fieldsOf(fragment.selectionSet, fragments, fragment.typeCondition.name.value, guarded, seen));
      seen.delete(fragment.name.value);
    }
  }
  return found;
}

const keyOf = (field: FieldNode): string => field.alias?.value ?? field.name.value;

/** A response key no selection in `fields` uses. */
function freshKey(base: string, fields: readonly Found[]): string {
  const used = new Set(fields.map((f) => keyOf(f.field)));
  let key = base;
  for (let n = 1; used.has(key); n += 1) key = `${base}${n}`;
  return key;
}

/**
 * The response keys under which the app's own selection already holds the cursor: a field selected on every
 * event of `eventType` (no directive on the way), whose key no other union member uses for anything else (a
 * `CursorMoved { version }` must not be read as an edit's version).
 */
function existingPath(
  rootSet: SelectionSetNode | undefined,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  spec: ResumableField,
): string[] | null {
  const keys: string[] = [];
  let fields = fieldsOf(rootSet, fragments, undefined);
  for (const [depth, name] of spec.path.entries()) {
    const candidate = fields.find((f) => f.field.name.value === name && !f.conditional && (depth > 0 || f.on === spec.eventType));
    if (!candidate) return null;
    const key = keyOf(candidate.field);
    if (depth === 0 && fields.some((f) => keyOf(f.field) === key && f.on !== spec.eventType)) return null;
    keys.push(key);
    fields = fieldsOf(candidate.field.selectionSet, fragments, undefined);
  }
  return keys;
}

function literalOf(value: ValueNode): Cursor | undefined {
  if (value.kind === Kind.STRING) return value.value;
  if (value.kind === Kind.INT) return Number(value.value);
  return undefined;
}

const name = (value: string) => ({ kind: Kind.NAME, value }) as const;

/**
 * Plans the resumption of `roomEvents` or `documentEvents` in a subscription document; null for anything else
 * (queries, mutations, other subscriptions, a document that does not parse: those are passed through untouched and
 * the server answers them as usual). A subscription has exactly one root field (GraphQL's "single root field"
 * rule), so one plan per document covers every case, aliases (`events: roomEvents(...)`) and fragments included.
 */
export function planResume(query: string, operationName?: string | null): ResumePlan | null {
  let document: DocumentNode;
  try {
    document = parse(query);
  } catch {
    return null;
  }
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const operation = operationName
    ? operations.find((o) => o.name?.value === operationName)
    : operations.length === 1
      ? operations[0]
      : undefined;
  if (!operation || operation.operation !== 'subscription') return null;
  const fragments = new Map(
    document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]),
  );
  const roots = fieldsOf(operation.selectionSet, fragments).filter((f) => !f.field.name.value.startsWith('__'));
  const root = roots.length === 1 ? roots[0]?.field : undefined;
  const spec = root ? RESUMABLE[root.name.value] : undefined;
  if (!root || !spec) return null;

  // The cursor variable: the one the app passes to the argument, else a declared `$after` (`$afterVersion`),
  // else a new one. A literal cursor becomes the variable's first value.
  const declared = new Set(operation.variableDefinitions?.map((v) => v.variable.name.value) ?? []);
  const argument = root.arguments?.find((a) => a.name.value === spec.argument);
  let variable: string;
  let literalCursor: Cursor | undefined;
  if (argument?.value.kind === Kind.VARIABLE) {
    variable = argument.value.name.value;
  } else if (!argument && declared.has(spec.argument)) {
    variable = spec.argument;
  } else {
    literalCursor = argument ? literalOf(argument.value) : undefined;
    variable = spec.argument;
    for (let n = 1; declared.has(variable); n += 1) variable = `${spec.argument}${n}`;
  }
  const addDefinition = !declared.has(variable);

  const rootSet = root.selectionSet;
  const rootFields = fieldsOf(rootSet, fragments);
  const existing = existingPath(rootSet, fragments, spec);
  // Not selected by the app: ask for it under a key of our own, removed again before the app sees the event.
  const added = existing ? null : freshKey(`resumable${spec.path[0][0]?.toUpperCase()}${spec.path[0].slice(1)}`, rootFields);
  const path = existing ?? [added as string, ...spec.path.slice(1)];

  const newArguments = [
    ...(root.arguments ?? []).filter((a) => a.name.value !== spec.argument),
    { kind: Kind.ARGUMENT, name: name(spec.argument), value: { kind: Kind.VARIABLE, name: name(variable) } },
  ];
  const addedSelection = added
    ? {
        kind: Kind.INLINE_FRAGMENT,
        typeCondition: { kind: Kind.NAMED_TYPE, name: name(spec.eventType) },
        selectionSet: {
          kind: Kind.SELECTION_SET,
          selections: [
            {
              kind: Kind.FIELD,
              alias: name(added),
              name: name(spec.path[0]),
              ...(spec.path[1]
                ? { selectionSet: { kind: Kind.SELECTION_SET, selections: [{ kind: Kind.FIELD, name: name(spec.path[1]) }] } }
                : {}),
            },
          ],
        },
      }
    : null;
  const newRoot: FieldNode = {
    ...root,
    arguments: newArguments,
    ...(rootSet && addedSelection ? { selectionSet: { ...rootSet, selections: [...rootSet.selections, addedSelection] } } : {}),
  } as FieldNode;
  const rewritten = visit(document, {
    OperationDefinition(node) {
      if (node !== operation || !addDefinition) return undefined;
      const definition = {
        kind: Kind.VARIABLE_DEFINITION,
        variable: { kind: Kind.VARIABLE, name: name(variable) },
        type: { kind: Kind.NAMED_TYPE, name: name(spec.variableType) },
      };
      return { ...node, variableDefinitions: [...(node.variableDefinitions ?? []), definition] };
    },
    Field(node) {
      return node === root ? newRoot : undefined;
    },
  });

  const rootKey = keyOf(root);
  const eventOf = (data: unknown): Record<string, unknown> | undefined => {
    const event = (data as Record<string, unknown> | null | undefined)?.[rootKey];
    return typeof event === 'object' && event !== null ? (event as Record<string, unknown>) : undefined;
  };
  return {
    query: print(rewritten),
    variable,
    literalCursor,
    cursorOf(data) {
      let value: unknown = eventOf(data);
      for (const key of path) value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
      return typeof value === 'string' || typeof value === 'number' ? value : undefined;
    },
    strip(data) {
      if (added) delete eventOf(data)?.[added];
    },
    compare: compareCursors,
  };
}
