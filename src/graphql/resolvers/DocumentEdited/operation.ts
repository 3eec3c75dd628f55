import { toFields } from '../../../documents/operation.ts';
import type { DocumentEditedResolvers } from '../../resolvers-types.generated.ts';

/** The ot-text-unicode components (number, string, {d}) as GraphQL's one-field objects, one for one. */
export const operation: NonNullable<DocumentEditedResolvers['operation']> = (edit) => toFields(edit.operation);
