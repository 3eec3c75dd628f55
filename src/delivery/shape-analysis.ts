import {
  Kind,
  getArgumentValues,
  getNamedType,
  getOperationAST,
  getVariableValues,
  isCompositeType,
  isInterfaceType,
  isObjectType,
  print,
  visit,
  type ASTNode,
  type ArgumentNode,
  type DirectiveNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type { DeliveryPolicy } from './policy.ts';

/**
 * A subscription operation whose per-event result depends on nothing but the event and the values that the shape
 * key holds: the selection below the root field (fragments inlined), the root arguments its `resolve` reads, and
 * the variables the selection reads. Decided from the document and the schema alone, once per document.
 */
export interface OperationShape {
  readonly operation: OperationDefinitionNode;
  readonly rootField: GraphQLField<unknown, unknown>;
  /** The first node of the root field (several may merge into it; validation makes their arguments equal). */
  readonly rootNode: FieldNode;
  readonly keyArgs: readonly string[];
  /** The normalized selection: fragments inlined, root arguments left out (see `keyArgs`). */
  readonly selection: string;
  /** Variables read by the selection (directives, field arguments) outside the root field's own arguments. */
  readonly variables: readonly string[];
}

class NotShareable extends Error {}

interface Walk {
  readonly schema: GraphQLSchema;
  readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>;
  readonly perViewer: ReadonlySet<string>;
  readonly variables: Set<string>;
  /** Fragments being inlined on the current path: validation forbids cycles, but analysis does not rely on it. */
  readonly inlining: Set<string>;
}

const byName = (a: ArgumentNode, b: ArgumentNode) => (a.name.value < b.name.value ? -1 : a.name.value > b.name.value ? 1 : 0);

function usesVariables(walk: Walk, nodes: readonly ASTNode[] | undefined): void {
  for (const node of nodes ?? []) visit(node, { Variable: (variable) => void walk.variables.add(variable.name.value) });
}

function printArguments(walk: Walk, args: readonly ArgumentNode[] | undefined): string {
  if (!args?.length) return '';
  usesVariables(walk, args);
  return `(${[...args]
    .sort(byName)
    .map((arg) => `${arg.name.value}:${print(arg.value)}`)
    .join(',')})`;
}

function printDirectives(walk: Walk, directives: readonly DirectiveNode[] | undefined): string {
  if (!directives?.length) return '';
  usesVariables(walk, directives);
  return directives.map((directive) => `@${directive.name.value}${printArguments(walk, directive.arguments)}`).join('');
}

function compositeType(walk: Walk, name: string): GraphQLCompositeType {
  const type = walk.schema.getType(name);
  if (!isCompositeType(type)) throw new NotShareable();
  return type;
}

/** The field `name` of `parent`, refused when it (or an implementation of it, for an interface) is per-viewer. */
function fieldOf(walk: Walk, parent: GraphQLCompositeType, name: string): GraphQLField<unknown, unknown> {
  if (!isObjectType(parent) && !isInterfaceType(parent)) throw new NotShareable();
  const field = parent.getFields()[name];
  if (!field || walk.perViewer.has(`${parent.name}.${name}`)) throw new NotShareable();
  if (isInterfaceType(parent)) {
    for (const type of walk.schema.getPossibleTypes(parent)) if (walk.perViewer.has(`${type.name}.${name}`)) throw new NotShareable();
  }
  return field;
}

/**
 * The selection set as one canonical string: what every subscriber with the same string gets is the same.
 * Fragments are inlined; one whose type condition is the enclosing type and that carries no directive always
 * applies (graphql-js collects its fields as if written in place), so its fields are spliced in: the Apollo shape
 * `{ __typename ...RoomEventFields }` (pitfalls §27) and the same selection written inline are one shape.
 */
function normalize(
  walk: Walk,
  selectionSet: SelectionSetNode | undefined,
  parent: GraphQLNamedType,
  rootNodes: FieldNode[] | null = null,
): string {
  return selectionSet ? `{${selectionParts(walk, selectionSet, parent, rootNodes).join(' ')}}` : '';
}

/**
 * `rootNodes`: at the operation's root level, where the root field's nodes are collected and printed without their
 * arguments (the key holds the values of those the field reads, `keyArgs`).
 */
function selectionParts(walk: Walk, selectionSet: SelectionSetNode, parent: GraphQLNamedType, rootNodes: FieldNode[] | null): string[] {
  const parts: string[] = [];
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      const name = selection.name.value;
      const alias = selection.alias ? `${selection.alias.value}:` : '';
      const directives = printDirectives(walk, selection.directives);
      if (name === '__typename') {
        parts.push(`${alias}${name}${directives}`);
        continue;
      }
      const field = fieldOf(walk, compositeTypeOf(walk, parent), name);
      rootNodes?.push(selection);
      const args = rootNodes ? '' : printArguments(walk, selection.arguments);
      parts.push(`${alias}${name}${args}${directives}${normalize(walk, selection.selectionSet, getNamedType(field.type))}`);
      continue;
    }
    let on: GraphQLCompositeType;
    let directives = printDirectives(walk, selection.directives);
    let inner: SelectionSetNode;
    let spread: string | null = null;
    if (selection.kind === Kind.INLINE_FRAGMENT) {
      on = selection.typeCondition ? compositeType(walk, selection.typeCondition.name.value) : compositeTypeOf(walk, parent);
      inner = selection.selectionSet;
    } else {
      spread = selection.name.value;
      const fragment = walk.fragments.get(spread);
      if (!fragment || walk.inlining.has(spread)) throw new NotShareable();
      on = compositeType(walk, fragment.typeCondition.name.value);
      directives += printDirectives(walk, fragment.directives);
      inner = fragment.selectionSet;
      walk.inlining.add(spread);
    }
    const innerParts = selectionParts(walk, inner, on, rootNodes);
    if (spread !== null) walk.inlining.delete(spread);
    if (on.name === parent.name && directives === '') parts.push(...innerParts);
    else parts.push(`...on ${on.name}${directives}{${innerParts.join(' ')}}`);
  }
  return parts;
}

function compositeTypeOf(walk: Walk, type: GraphQLNamedType): GraphQLCompositeType {
  return compositeType(walk, type.name);
}

/**
 * The shape of `operationName` in `document`, or null when its results may not be shared: not a subscription,
 * a root field not in the policy's `sharedRoots`, a per-viewer field selected anywhere, or a document that does
 * not validate (analysis never throws: a document is validated before it runs, and this may run first).
 */
export function analyzeOperation(
  schema: GraphQLSchema,
  policy: DeliveryPolicy,
  perViewer: ReadonlySet<string>,
  document: DocumentNode,
  operationName: string | null | undefined,
): OperationShape | null {
  const operation = getOperationAST(document, operationName);
  const root = schema.getSubscriptionType();
  if (!operation || operation.operation !== 'subscription' || !root) return null;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const walk: Walk = { schema, fragments, perViewer, variables: new Set(), inlining: new Set() };
  const rootNodes: FieldNode[] = [];
  let selection: string;
  try {
    selection = normalize(walk, operation.selectionSet, root, rootNodes);
  } catch (error) {
    if (error instanceof NotShareable) return null;
    throw error;
  }
  const [rootNode, ...others] = rootNodes;
  if (!rootNode) return null;
  const name = rootNode.name.value;
  const responseKey = (node: FieldNode) => node.alias?.value ?? node.name.value;
  // One root field (validation allows no other), maybe selected by several nodes that merge into it.
  if (others.some((node) => node.name.value !== name || responseKey(node) !== responseKey(rootNode))) return null;
  const shared = Object.hasOwn(policy.sharedRoots, name) ? policy.sharedRoots[name] : undefined;
  const rootField = root.getFields()[name];
  if (!shared || !rootField) return null;
  return { operation, rootField, rootNode, keyArgs: shared.keyArgs, selection, variables: [...walk.variables].sort() };
}

/**
 * The key of one subscriber's execution, or null when its variables do not coerce (it must not share anything).
 * Keyed on the coerced values, as execution sees them, not on what the client sent: an explicit `null` and an
 * omitted variable with a default are different executions (`$full: Boolean = true` gives `true` for one and an
 * error at `@include(if: $full)` for the other), while `5` and `"5"` for an ID are the same one. An absent value (no
 * default, not sent) is kept apart from `null` too: graphql-js reports the two differently.
 */
export function shapeKey(
  schema: GraphQLSchema,
  shape: OperationShape,
  variableValues: Readonly<Record<string, unknown>> | null | undefined,
): string | null {
  const coercion = getVariableValues(schema, shape.operation.variableDefinitions ?? [], variableValues ?? {}, { maxErrors: 1 });
  if (coercion.errors) return null;
  const { coerced } = coercion;
  let args: Record<string, unknown>;
  try {
    args = getArgumentValues(shape.rootField, shape.rootNode, coerced);
  } catch {
    return null;
  }
  // `[value]` when present, `[]` when absent: JSON would turn an absent value in a plain array into null.
  const present = (values: Record<string, unknown>, name: string) => (Object.hasOwn(values, name) ? [values[name]] : []);
  const keyArgs = JSON.stringify(shape.keyArgs.map((name) => present(args, name)));
  const variables = JSON.stringify(shape.variables.map((name) => present(coerced, name)));
  return `${shape.selection}\u0000${keyArgs}\u0000${variables}`;
}
