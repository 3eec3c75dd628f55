// The demo pages' session against the dev server: a token from `POST /dev/token` (outside production only) and
// GraphQL over HTTP with it, fetching a new token once when it expired. Shared by the chat and the editor page.

export const GRAPHQL = '/graphql';

/** A GraphQL error as a thrown value: its message, and its `extensions.code` to decide on. */
export class GraphQLFailure extends Error {
  constructor(error) {
    super(error.message);
    this.code = error.extensions?.code;
  }
}

/** Signs `state.name` in: sets `state.token` and `state.userId`. */
export async function fetchToken(state) {
  const response = await fetch('/dev/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: state.name }),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error ?? `dev token: HTTP ${response.status}`);
  state.token = body.token;
  state.userId = body.userId;
}

/** One operation over HTTP with `state.token`; an expired dev token is replaced and the operation tried once more. */
export async function request(state, query, variables = {}, retried = false) {
  const response = await fetch(GRAPHQL, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${state.token}` },
    body: JSON.stringify({ query, variables }),
  });
  const result = await response.json();
  if (result.errors?.length) {
    const failure = new GraphQLFailure(result.errors[0]);
    if (failure.code === 'UNAUTHENTICATED' && !retried) {
      await fetchToken(state);
      return request(state, query, variables, true);
    }
    throw failure;
  }
  return result.data;
}
