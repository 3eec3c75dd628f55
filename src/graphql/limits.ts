import { EnvelopArmor } from '@escape.tech/graphql-armor';
import type { GraphQLArmorRejectCallback } from '@escape.tech/graphql-armor-types';
import { GraphQLError, NoSchemaIntrospectionCustomRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Limits } from '../config.ts';

/** Depth, aliases, tokens, directives and cost, as configured (`config.ts` documents each). */
type GraphQLShapeLimits = Limits['graphql'];

export interface GraphQLLimitOptions extends GraphQLShapeLimits {
  /** false: `__schema` / `__type` fail validation, and "Did you mean" suggestions are masked (they leak the schema too). */
  introspection: boolean;
}

/** Every query-shape limit answers with this code, whichever stage (parse or validate) caught it. */
export const LIMIT_ERROR_CODE = 'GRAPHQL_VALIDATION_FAILED';

/**
 * Query-shape limits as envelop plugins, so they run wherever `yoga.getEnveloped` runs: HTTP, SSE and (through
 * `onSubscribe`) WebSocket alike.
 *
 * graphql-armor's default is to throw from inside a validation rule, which escapes `validate()`: over graphql-ws
 * that throw becomes close 4500 for the whole socket (pitfalls §11). Its rules therefore report to the validation
 * context instead (`propagateOnRejection: false`), and the error comes back as one ordinary validation error of
 * that operation. Only the token limit has to throw (it runs inside the parser); parse errors are returned per
 * operation by `graphql-ws-server.ts` and by Yoga.
 */
export function createGraphQLLimitPlugins(options: GraphQLLimitOptions): Plugin[] {
  const report: GraphQLArmorRejectCallback = (context, error) => {
    context?.reportError(new GraphQLError(error.message, { extensions: { code: LIMIT_ERROR_CODE } }));
  };
  const asRule = { onReject: [report], propagateOnRejection: false };
  const armor = new EnvelopArmor({
    // Fields count, fragments do not: codegen and Apollo documents nest named fragments several levels deep
    // for the same selection an inline document writes flat. The cost limit prices what is selected the same way.
    maxDepth: { n: options.maxDepth, flattenFragments: true, ...asRule },
    maxAliases: { n: options.maxAliases, ...asRule },
    maxDirectives: { n: options.maxDirectives, ...asRule },
    costLimit: { maxCost: options.maxCost, flattenFragments: true, ...asRule },
    maxTokens: {
      n: options.maxTokens,
      // Thrown by the parser with no context to report to; give it the same code as the other limits.
      onReject: [(_context, error) => Object.assign(error.extensions, { code: LIMIT_ERROR_CODE })],
      propagateOnRejection: true,
    },
    blockFieldSuggestion: { enabled: !options.introspection },
  });
  const plugins: Plugin[] = [...(armor.protect().plugins as Plugin[]), codeParseErrors];
  if (!options.introspection) plugins.push(noIntrospection);
  return plugins;
}

/**
 * Yoga codes parse errors GRAPHQL_PARSE_FAILED only for HTTP requests (it looks for `request` in the context);
 * WebSocket operations would get no code at all. One code on every transport.
 */
const codeParseErrors: Plugin = {
  onParse() {
    return ({ result }) => {
      if (result instanceof GraphQLError && result.extensions.code === undefined) {
        Object.assign(result.extensions, { code: 'GRAPHQL_PARSE_FAILED' });
      }
    };
  },
};

const noIntrospection: Plugin = {
  onValidate({ addValidationRule }) {
    addValidationRule(NoSchemaIntrospectionCustomRule);
  },
};
