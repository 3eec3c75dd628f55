// The demo chat: plain browser JavaScript, no build step. Queries and mutations go over HTTP POST; roomEvents over
// graphql-ws's own client wrapped in `resumable()` (this package's `./client` export, as an app would use it): with
// graphql-ws's retries on, a reconnect (a server restart, a dropped network) resumes the room from the last message
// shown, and the token is refreshed in band (`refreshToken`) before it expires, so the socket is never closed for it.
// Both are served from this origin (`browser-modules.ts`; `graphql-ws` is mapped by the import map in index.html).
import { createClient } from 'graphql-ws';
import { resumable } from '/demo/client/resumable.js';
import { GRAPHQL, fetchToken as fetchDevToken, request as requestAs } from '/demo/dev-session.js';

const WS_URL = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${GRAPHQL}`;
/** The server forgets a setTyping(true) after a few seconds; renew it this often while keys are pressed. */
const TYPING_RENEW_MS = 2_000;
/** No key for this long: tell the others we stopped. */
const TYPING_IDLE_MS = 3_000;
/** Longest wait between two reconnection attempts. */
const MAX_RETRY_WAIT_MS = 10_000;

const $ = (id) => document.getElementById(id);

const state = {
  name: '',
  userId: '',
  token: '',
  room: null,
  lastMessageId: null,
  seen: new Set(),
  online: new Map(),
  typing: new Map(),
};

const ROOM_EVENTS = `subscription RoomEvents($roomId: ID!, $after: ID) {
  roomEvents(roomId: $roomId, after: $after) {
    __typename
    ... on MessageSent { message { id author { id name } body sentAt } }
    ... on MemberJoined { user { id name } }
    ... on MemberLeft { user { id name } }
    ... on TypingChanged { user { id name } typing }
  }
}`;

const fetchToken = async () => fetchDevToken(state);
const request = async (query, variables) => requestAs(state, query, variables);

/**
 * One graphql-ws client per page, connected at sign-in. graphql-ws retries on its own (forever here, backing off up
 * to MAX_RETRY_WAIT_MS); graphql-ws itself stops on the codes after which a retry cannot help (1008, 1009, 4400, 4500).
 * `getToken` mints a fresh dev token: used for each connection_init and for each in-band refresh.
 */
function createSocket() {
  let client = null;
  let roomSubscription = null;

  async function getToken() {
    await fetchToken().catch(() => undefined);
    return state.token;
  }

  function connect() {
    const inner = createClient({
      url: WS_URL,
      lazy: false,
      retryAttempts: Infinity,
      retryWait: (retries) =>
        new Promise((resolve) => setTimeout(resolve, Math.min(500 * 2 ** retries, MAX_RETRY_WAIT_MS) * (0.5 + Math.random() / 2))),
      connectionParams: async () => ({ authorization: `Bearer ${await getToken()}` }),
      onNonLazyError: (error) => setStatus(`disconnected${error?.code ? ` (${error.code} ${error.reason})` : ''}`),
    });
    inner.on('connecting', (isRetry) => setStatus(isRetry ? 'reconnecting…' : 'connecting…'));
    inner.on('connected', (_socket, _payload, wasRetry) => {
      setStatus('online');
      // Presence is not replayed: who came and went while the page was away is read again.
      if (wasRetry && state.room) reloadOnline(state.room.id).catch(() => undefined);
    });
    inner.on('closed', () => setStatus('reconnecting…'));
    client = resumable(inner, { getToken });
  }

  /** The open room's events: from the newest message shown on, then resumed by the helper after every reconnect. */
  function subscribeRoom() {
    roomSubscription?.();
    roomSubscription = null;
    if (!state.room || !client) return;
    const roomId = state.room.id;
    const variables = { roomId, ...(state.lastMessageId ? { after: state.lastMessageId } : {}) };
    roomSubscription = client.subscribe(
      { query: ROOM_EVENTS, variables },
      {
        next: ({ data, errors }) => {
          if (errors?.length) showError(errors.map((e) => e.message).join('; '));
          if (state.room?.id === roomId) onRoomEvent(data?.roomEvents);
        },
        error: (error) =>
          showError(Array.isArray(error) ? error.map((e) => e.message).join('; ') : `subscription ended (${error?.code ?? error})`),
        complete: () => undefined,
      },
    );
  }

  return {
    connect,
    subscribeRoom,
    close() {
      roomSubscription?.();
      client?.dispose();
    },
  };
}

const socket = createSocket();

function setStatus(text) {
  $('status').textContent = text;
}

function showError(text) {
  const item = document.createElement('li');
  item.className = 'error';
  item.textContent = `⚠ ${text}`;
  $('messages').append(item);
}

function onRoomEvent(event) {
  if (!event) return;
  switch (event.__typename) {
    case 'MessageSent':
      state.typing.delete(event.message.author.id);
      addMessage(event.message);
      renderTyping();
      break;
    case 'MemberJoined':
      state.online.set(event.user.id, event.user.name);
      renderOnline();
      break;
    case 'MemberLeft':
      state.online.delete(event.user.id);
      state.typing.delete(event.user.id);
      renderOnline();
      renderTyping();
      break;
    case 'TypingChanged':
      if (event.user.id === state.userId) break;
      if (event.typing) state.typing.set(event.user.id, event.user.name);
      else state.typing.delete(event.user.id);
      renderTyping();
      break;
  }
}

function addMessage(message) {
  if (state.seen.has(message.id)) return;
  state.seen.add(message.id);
  // Ids sort in send order (as strings): a sent message's reply can overtake an older event.
  if (!state.lastMessageId || message.id > state.lastMessageId) state.lastMessageId = message.id;
  const item = document.createElement('li');
  item.dataset.id = message.id;
  const author = document.createElement('span');
  author.className = 'author';
  author.textContent = message.author.name;
  const body = document.createElement('span');
  body.className = 'body';
  body.textContent = message.body;
  const time = document.createElement('time');
  time.dateTime = message.sentAt;
  time.textContent = new Date(message.sentAt).toLocaleTimeString();
  item.append(author, body, time);
  const later = [...$('messages').querySelectorAll('li[data-id]')].find((other) => other.dataset.id > message.id);
  $('messages').insertBefore(item, later ?? null);
  item.scrollIntoView({ block: 'end' });
}

function renderOnline() {
  if (state.room) state.online.set(state.userId, state.name);
  $('online').replaceChildren(
    ...[...state.online].map(([id, name]) => {
      const item = document.createElement('li');
      item.dataset.userId = id;
      item.textContent = id === state.userId ? `${name} (you)` : name;
      return item;
    }),
  );
}

function renderTyping() {
  const names = [...state.typing.values()];
  $('typing').textContent = names.length === 0 ? '' : `${names.join(', ')} ${names.length === 1 ? 'is' : 'are'} typing…`;
}

async function loadRooms() {
  const { rooms } = await request('{ rooms { id name } }');
  $('rooms').replaceChildren(
    ...rooms.map((room) => {
      const item = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = `# ${room.name}`;
      button.dataset.roomId = room.id;
      button.setAttribute('aria-current', String(state.room?.id === room.id));
      button.onclick = () => openRoom(room);
      item.append(button);
      return item;
    }),
  );
}

async function reloadOnline(roomId) {
  const data = await request('query Online($id: ID!) { room(id: $id) { online { user { id name } } } }', { id: roomId });
  if (state.room?.id !== roomId) return;
  state.online = new Map((data.room?.online ?? []).map((p) => [p.user.id, p.user.name]));
  renderOnline();
}

async function openRoom(room) {
  state.room = room;
  state.lastMessageId = null;
  state.seen.clear();
  state.typing.clear();
  $('messages').replaceChildren();
  $('room-title').textContent = `# ${room.name}`;
  $('composer').hidden = false;
  const data = await request(
    `query Room($id: ID!) { room(id: $id) { online { user { id name } } messages(last: 50) { id author { id name } body sentAt } } }`,
    { id: room.id },
  );
  state.online = new Map((data.room?.online ?? []).map((p) => [p.user.id, p.user.name]));
  for (const message of data.room?.messages ?? []) addMessage(message);
  renderOnline();
  renderTyping();
  // Subscribing after the history load with `after` = the newest message shown: no gap, no duplicate.
  socket.subscribeRoom();
  for (const button of $('rooms').querySelectorAll('button')) {
    button.setAttribute('aria-current', String(button.dataset.roomId === room.id));
  }
  $('body').focus();
}

let typingSentAt = 0;
let idleTimer = null;
function setTyping(typing) {
  if (!state.room) return;
  request('mutation SetTyping($roomId: ID!, $typing: Boolean!) { setTyping(roomId: $roomId, typing: $typing) }', {
    roomId: state.room.id,
    typing,
  }).catch(() => undefined);
}
function stopTyping() {
  clearTimeout(idleTimer);
  if (typingSentAt) setTyping(false);
  typingSentAt = 0;
}

$('body').addEventListener('input', () => {
  if (!$('body').value.trim()) return stopTyping();
  if (Date.now() - typingSentAt >= TYPING_RENEW_MS) {
    typingSentAt = Date.now();
    setTyping(true);
  }
  clearTimeout(idleTimer);
  idleTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
});

$('composer').addEventListener('submit', async (event) => {
  event.preventDefault();
  const body = $('body').value.trim();
  if (!body || !state.room) return;
  $('body').value = '';
  stopTyping();
  try {
    // clientMessageId makes a retried send idempotent (CONTRACT: Semantics).
    const { sendMessage } = await request(
      'mutation Send($roomId: ID!, $body: String!, $cid: ID) { sendMessage(roomId: $roomId, body: $body, clientMessageId: $cid) { id author { id name } body sentAt } }',
      { roomId: state.room.id, body, cid: crypto.randomUUID() },
    );
    addMessage(sendMessage);
  } catch (error) {
    showError(error.message);
  }
});

$('room-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const name = $('room-name').value.trim();
  if (!name) return;
  $('room-name').value = '';
  const { createRoom } = await request('mutation CreateRoom($name: String!) { createRoom(name: $name) { id name } }', { name });
  await loadRooms();
  await openRoom(createRoom);
});

$('login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  state.name = $('name').value.trim();
  try {
    await fetchToken();
  } catch (error) {
    $('login-error').textContent = error.message;
    return;
  }
  $('login').hidden = true;
  $('app').hidden = false;
  $('me').textContent = `Signed in as ${state.name}`;
  socket.connect();
  watchUserEvents();
  await loadRooms();
});

// Besides userEvents (below), refresh the list when the user comes back to the tab: user events are not replayed.
window.addEventListener('focus', () => state.token && loadRooms().catch(() => undefined));
window.addEventListener('pagehide', () => socket.close());

// userEvents: the live room list and mention badges. Self-contained: its own GraphQL-over-SSE stream (fetch, so the
// token goes in a header, which EventSource cannot send), reopened after a drop. Nothing is replayed after a
// reconnect (CONTRACT: Targeted delivery), so a reopened stream reloads the room list.
const USER_EVENTS = `subscription UserEvents {
  userEvents {
    __typename
    ... on RoomAvailable { room { id name } }
    ... on Mentioned { message { roomId author { name } body } }
  }
}`;

/** Unread mentions per room id; drawn on the room list's buttons, which `loadRooms` redraws. */
const mentionBadges = new Map();

function drawMentionBadges() {
  for (const button of $('rooms').querySelectorAll('button[data-room-id]')) {
    const count = mentionBadges.get(button.dataset.roomId) ?? 0;
    let badge = button.querySelector('.mention-badge');
    if (!count) {
      badge?.remove();
      continue;
    }
    if (!badge) {
      badge = document.createElement('span');
      badge.className = 'mention-badge';
      badge.style.cssText = 'margin-left:.4rem;padding:0 .4rem;border-radius:9px;background:#e5484d;color:#fff;font-size:.75rem';
      button.append(badge);
    }
    badge.textContent = `@${count}`;
    badge.title = `${count} mention${count === 1 ? '' : 's'} of you`;
  }
}

function onUserEvent(event) {
  if (event?.__typename === 'RoomAvailable') {
    loadRooms().catch(() => undefined);
  } else if (event?.__typename === 'Mentioned' && event.message.roomId !== state.room?.id) {
    mentionBadges.set(event.message.roomId, (mentionBadges.get(event.message.roomId) ?? 0) + 1);
    drawMentionBadges();
  }
}

function watchUserEvents() {
  if (watchUserEvents.started) return;
  watchUserEvents.started = true;
  // Redraw badges whenever the list is redrawn; opening a room reads its mentions.
  new MutationObserver(drawMentionBadges).observe($('rooms'), { childList: true });
  $('rooms').addEventListener('click', (event) => {
    const button = event.target.closest('button[data-room-id]');
    if (button && mentionBadges.delete(button.dataset.roomId)) drawMentionBadges();
  });
  let attempt = 0;
  let opened = false;
  const open = async () => {
    try {
      const response = await fetch(GRAPHQL, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${state.token}` },
        body: JSON.stringify({ query: USER_EVENTS }),
      });
      if (!response.ok || !response.body) throw new Error(`userEvents: HTTP ${response.status}`);
      // Reopened: what was created meanwhile was missed (no replay), the list is the truth.
      if (opened) loadRooms().catch(() => undefined);
      opened = true;
      attempt = 0;
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffered = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffered += value;
        let end;
        while ((end = buffered.indexOf('\n\n')) >= 0) {
          const lines = buffered.slice(0, end).split('\n');
          buffered = buffered.slice(end + 2);
          const data = lines
            .filter((line) => line.startsWith('data:'))
            .map((line) => line.slice(5).trim())
            .join('\n');
          if (!lines.includes('event: next') || !data) continue;
          const result = JSON.parse(data);
          // An expired dev token ends the stream with UNAUTHENTICATED: the retry below gets a new one.
          if (result.errors?.some((error) => error.extensions?.code === 'UNAUTHENTICATED')) await fetchToken().catch(() => undefined);
          onUserEvent(result.data?.userEvents);
        }
      }
    } catch {
      // Dropped or refused: retried below.
    }
    const delay = Math.min(500 * 2 ** Math.min(attempt++, 5), 10_000) * (0.5 + Math.random() / 2);
    setTimeout(open, delay);
  };
  void open();
}
