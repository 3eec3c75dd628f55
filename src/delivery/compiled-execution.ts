import { BREAK, execute, visit, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';

/** What an execution of one event reads besides the event: the same for every subscriber of a shape. */
export type EventExecutionArgs = Pick<ExecutionArgs, 'schema' | 'document' | 'operationName' | 'variableValues'>;

export interface CompiledExecutionOptions {
  /**
   * Executions of one document (per operation name) by graphql-js before it is compiled. Compiling costs about as
   * much as a hundred executions (~2 ms for the README's document), so a document that only a few events ever reach
   * never pays it. 0: compile on first use. @default 64
   */
  compileAfter?: number;
}

/** A document's executions so far, and its compiled form once it has one (null: graphql-jit refused it). */
interface Entry {
  executions: number;
  compiled: CompiledQuery | null | undefined;
}

/**
 * Shared per-event execution: graphql-js until a document is hot, then graphql-jit's compiled form of it (a
 * function generated for that one selection, ~10x cheaper per event than `execute`; docs/message-cost.md).
 *
 * Only a result without errors is taken from the compiled form. One with errors (a non-null field that came back
 * null, a scalar that cannot serialize) is executed again by graphql-js, and that result is the one served: error
 * messages, paths and locations are then graphql-js's own, as on every other path. Executing again is safe because
 * what a shared execution reaches reads nothing but the event (the delivery invariant,
 * `test/unit/delivery-invariant.test.ts`). That results without errors are the same, byte for byte, whatever
 * executes them is `test/unit/compiled-execution.test.ts`.
 */
export class CompiledExecution {
  readonly #compileAfter: number;
  readonly #documents = new WeakMap<DocumentNode, Map<string, Entry>>();

  constructor({ compileAfter = 64 }: CompiledExecutionOptions = {}) {
    this.#compileAfter = compileAfter;
  }

  execute(args: EventExecutionArgs, contextValue: object, rootValue: unknown): ExecutionResult | Promise<ExecutionResult> {
    const compiled = this.#compiledFor(args);
    if (!compiled) return interpret(args, contextValue, rootValue);
    const result = compiled.query(rootValue, contextValue, args.variableValues ?? {});
    const again = (done: ExecutionResult) => (done.errors ? interpret(args, contextValue, rootValue) : done);
    return result instanceof Promise ? result.then(again) : again(result);
  }

  /** How `args`' document is executed now (for tests and diagnostics). */
  stateOf({ document, operationName }: EventExecutionArgs): 'interpreted' | 'compiled' | 'refused' {
    const compiled = this.#documents.get(document)?.get(operationName ?? '')?.compiled;
    return compiled === undefined ? 'interpreted' : compiled === null ? 'refused' : 'compiled';
  }

  #compiledFor(args: EventExecutionArgs): CompiledQuery | null {
    let byName = this.#documents.get(args.document);
    if (!byName) this.#documents.set(args.document, (byName = new Map()));
    const name = args.operationName ?? '';
    let entry = byName.get(name);
    if (!entry) byName.set(name, (entry = { executions: 0, compiled: undefined }));
    if (entry.compiled !== undefined) return entry.compiled;
    if (entry.executions++ < this.#compileAfter) return null;
    entry.compiled = compile(args);
    return entry.compiled;
  }
}

/**
 * graphql-js's execution. The arguments are spelled out: `{ ...args, contextValue, rootValue }` (a spread, then
 * properties it did not have) costs V8 ~2 us, a literal of one shape nothing (pitfalls §32).
 */
function interpret(args: EventExecutionArgs, contextValue: object, rootValue: unknown): ExecutionResult | Promise<ExecutionResult> {
  const { schema, document, operationName, variableValues } = args;
  return execute({ schema, document, operationName, variableValues, contextValue, rootValue });
}

/** graphql-jit's compiled form of the operation, or null where it refuses or fails: graphql-js executes that one. */
function compile({ schema, document, operationName }: EventExecutionArgs): CompiledQuery | null {
  if (hasConditionalSelections(document)) return null;
  try {
    const compiled = compileQuery(schema, document, operationName ?? undefined);
    return isCompiledQuery(compiled) ? compiled : null;
  } catch {
    return null;
  }
}

/**
 * graphql-jit orders a response key by its first occurrence in the document even when `@include`/`@skip` leaves
 * that occurrence out (`a @include(if: false) b a` gives `a, b`, graphql-js `b, a`), and takes an `if:` variable
 * that is null as false where graphql-js answers an error. Documents with either directive stay with graphql-js
 * (still shared); Apollo's and codegen's documents rarely carry them (pitfalls §31).
 */
function hasConditionalSelections(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    Directive(node) {
      if (node.name.value !== 'include' && node.name.value !== 'skip') return undefined;
      found = true;
      return BREAK;
    },
  });
  return found;
}
