import { specifiedRules, type DocumentNode, type GraphQLSchema, type ValidationRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** Rule lists remembered at most; a list depends on the app's plugins, not on requests, so this is never reached. */
const MAX_RULE_LISTS = 64;

/**
 * Yoga's validation cache (`parserAndValidationCache`), the same results under the same keys, without its cost per
 * request: Yoga keys the cache by the names of all the rules joined (`rules.map((rule) => rule.name).join(',')`),
 * reading ~35 function names and hashing a fresh string of ~800 characters for every operation, about 2% of the
 * CPU of a sendMessage over HTTP (docs/message-cost.md). Here graphql-js's specified rules, which open every list
 * as the same functions, are counted by identity, and only the names of the plugins' rules after them are read: two
 * lists get one key only if Yoga's keys for them are equal too.
 *
 * Registered as the app's last plugin, where Yoga's own would run (only its body-size check, which has no validate
 * hook, comes between), with Yoga's validation cache turned off (`validationCache: false`; its parse cache stays):
 * its hook sees the same rules, and its after-hook the same result, as Yoga's did.
 */
export function useValidationCache(): Plugin {
  const byRules = new Map<string, WeakMap<GraphQLSchema, WeakMap<DocumentNode, readonly Error[]>>>();
  return {
    onValidate({ params: { schema, documentAST, rules }, setResult }) {
      if (schema == null) return;
      const key = rulesKey(rules);
      let bySchema = byRules.get(key);
      if (!bySchema) {
        if (byRules.size >= MAX_RULE_LISTS) byRules.clear();
        byRules.set(key, (bySchema = new WeakMap()));
      }
      let byDocument = bySchema.get(schema);
      if (!byDocument) bySchema.set(schema, (byDocument = new WeakMap()));
      const cached = byDocument.get(documentAST);
      if (cached) {
        setResult(cached);
        return;
      }
      const results = byDocument;
      return ({ result }) => {
        if (result != null) results.set(documentAST, result);
      };
    },
  };
}

/** How many of graphql-js's specified rules open the list (by identity), then the names of the rules after them. */
export function rulesKey(rules: readonly ValidationRule[] | undefined): string {
  if (!rules) return '';
  let specified = 0;
  while (specified < rules.length && specified < specifiedRules.length && rules[specified] === specifiedRules[specified]) specified += 1;
  let key = String(specified);
  for (let i = specified; i < rules.length; i += 1) key += `,${rules[i]?.name ?? ''}`;
  return key;
}
