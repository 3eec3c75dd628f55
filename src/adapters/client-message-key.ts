/**
 * The key a message store files an idempotent send under: one per author and clientMessageId. NUL cannot occur in
 * a user id from a JWT `sub`, so two different pairs never run together into the same key.
 */
export const clientMessageKey = (authorId: string, clientMessageId: string): string => `${authorId}\u0000${clientMessageId}`;
