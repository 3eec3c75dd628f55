/**
 * The mention grammar of the contract ("Targeted delivery"): an `@` not preceded by a letter, digit, `_`, `-` or
 * `.`, followed by the whole run of letters, digits, `_` and `-`, which is the mentioned user's id. `@a-b` names
 * `a-b`, never `a`; `mail@u1` and `.@u1` name nobody (an address, a path). Letters and digits are Unicode's
 * (`\p{L}`, `\p{Nd}`, with combining marks so a decomposed `é` does not end a run): an id such as `josé` is
 * mentioned as typed, and `é@u1` is no more a mention than `e@u1`.
 */
const MENTION = /(?<![\p{L}\p{M}\p{Nd}_.-])@([\p{L}\p{M}\p{Nd}_-]+)/gu;

/** The contract's bound: a message mentions at most this many distinct users; later ones are ignored. */
export const MAX_MENTIONS = 20;

/**
 * The distinct user ids `body` mentions, in order of first mention, at most `max`. The author and users who
 * cannot read the room are filtered out by the caller, after the cap: the cap is a property of the message.
 */
export function parseMentions(body: string, max = MAX_MENTIONS): string[] {
  const ids = new Set<string>();
  if (max <= 0 || !body.includes('@')) return [];
  for (const match of body.matchAll(MENTION)) {
    ids.add(match[1] as string);
    if (ids.size >= max) break;
  }
  return [...ids];
}
