import { type } from 'ot-text-unicode';
import { ChatError } from '../chat/errors.ts';
import type { TextOp } from './types.ts';

/** One component as GraphQL carries it (`TextOpInput` / `TextOpComponent`): exactly one field set. */
export interface TextOpFields {
  retain?: number | null;
  insert?: string | null;
  delete?: number | null;
}

const invalid = (message: string) => new ChatError('BAD_USER_INPUT', `operation: ${message}`);

/** Unicode code points (the unit of ot-text-unicode), counted without building an array. */
export function codePoints(text: string): number {
  let count = text.length;
  for (let i = 0; i < text.length - 1; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        count -= 1;
        i += 1;
      }
    }
  }
  return count;
}

export interface ParsedOperation {
  /** Normalised: adjacent components of one kind merged, a trailing retain dropped (contract). */
  op: TextOp;
  /** Code points of the text the components read as sent, trailing retain included: at most the text's length. */
  reads: number;
}

/** The client's components as an ot-text-unicode op. Structural checks only: `reads` is checked against the text. */
export function parseOperation(components: readonly TextOpFields[]): ParsedOperation {
  const op: TextOp = [];
  components.forEach((component, index) => {
    const set = [component.retain, component.insert, component.delete].filter((value) => value !== null && value !== undefined);
    if (set.length !== 1) throw invalid(`component ${index} must set exactly one of retain, insert, delete`);
    if (typeof component.insert === 'string') {
      if (component.insert === '') throw invalid(`component ${index}: insert must not be empty`);
      op.push(component.insert);
      return;
    }
    const count = (component.retain ?? component.delete) as number;
    if (!Number.isSafeInteger(count) || count <= 0) throw invalid(`component ${index}: retain and delete must be positive`);
    op.push(component.retain != null ? count : { d: count });
  });
  const normalized = type.normalize(op);
  if (normalized.length === 0) throw invalid('changes nothing');
  return { op: normalized, reads: inputLength(op) };
}

/** How many code points of the text the op reads (retains and deletes): at most the text's length. */
export function inputLength(op: TextOp): number {
  let length = 0;
  for (const component of op) {
    if (typeof component === 'number') length += component;
    else if (typeof component === 'object') length += typeof component.d === 'number' ? component.d : codePoints(component.d);
  }
  return length;
}

/** Code points the op adds to a text's length (negative when it removes more than it inserts). */
export function lengthChange(op: TextOp): number {
  let change = 0;
  for (const component of op) {
    if (typeof component === 'string') change += codePoints(component);
    else if (typeof component === 'object') change -= typeof component.d === 'number' ? component.d : codePoints(component.d);
  }
  return change;
}

/** The op as GraphQL components, one per op component. */
export function toFields(op: TextOp): TextOpFields[] {
  return op.map((component) => {
    if (typeof component === 'number') return { retain: component, insert: null, delete: null };
    if (typeof component === 'string') return { retain: null, insert: component, delete: null };
    return { retain: null, insert: null, delete: typeof component.d === 'number' ? component.d : codePoints(component.d) };
  });
}
