import { GraphQLError, Kind, validate, type ASTVisitor, type DocumentNode, type SelectionSetNode, type ValidationContext } from 'graphql';
import type { Plugin } from 'graphql-yoga';

const CONDITIONAL = new Set(['skip', 'include']);

/**
 * A subscription must select exactly one root field, whatever its variables say: `@skip` or `@include` on a root
 * selection (the field itself, or a fragment that holds it) can leave none, and graphql-js then throws a TypeError
 * from `subscribe` (close 4500 over WebSocket, INTERNAL_SERVER_ERROR over SSE). The GraphQL spec's "Single root
 * field" rule forbids these directives there; graphql 16 does not check it yet, so this rule does.
 */
export function SubscriptionRootDirectivesRule(context: ValidationContext): ASTVisitor {
  return {
    OperationDefinition(operation) {
      if (operation.operation !== 'subscription') return;
      const seen = new Set<string>();
      const check = (selectionSet: SelectionSetNode): void => {
        for (const selection of selectionSet.selections) {
          const conditional = selection.directives?.find((directive) => CONDITIONAL.has(directive.name.value));
          if (conditional) {
            context.reportError(
              new GraphQLError(`A subscription's root field cannot be conditional: @${conditional.name.value} is not allowed here.`, {
                nodes: [conditional],
                extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
              }),
            );
          }
          if (selection.kind === Kind.INLINE_FRAGMENT) check(selection.selectionSet);
          if (selection.kind === Kind.FRAGMENT_SPREAD && !seen.has(selection.name.value)) {
            seen.add(selection.name.value);
            const fragment = context.getFragment(selection.name.value);
            if (fragment) check(fragment.selectionSet);
          }
        }
      };
      check(operation.selectionSet);
    },
  };
}

const hasSubscription = (document: DocumentNode) =>
  document.definitions.some((definition) => definition.kind === Kind.OPERATION_DEFINITION && definition.operation === 'subscription');

/**
 * Runs the rule before graphql's own: its `SingleFieldSubscriptionsRule` evaluates `@include(if: $var)` on a root
 * field without the variables and throws out of `validate()`, so an added rule would never be reached.
 */
export const useSubscriptionRootDirectivesRule: Plugin = {
  onValidate({ validateFn, setValidationFn }) {
    setValidationFn((schema, document, ...rest) => {
      if (hasSubscription(document)) {
        const errors = validate(schema, document, [SubscriptionRootDirectivesRule]);
        if (errors.length > 0) return errors;
      }
      return validateFn(schema, document, ...rest);
    });
  },
};
