// The collaborative editor demo (issue 12): plain browser JavaScript over the same OT client module the tests and
// the README use (src/client/ot-client.ts, served as /demo/ot-client.js), no bundler, nothing from a CDN.
// Queries and mutations over HTTP POST; documentEvents over a hand-written graphql-transport-ws client, resumed
// with `afterVersion` after every reconnect. The textarea counts UTF-16 units, OT counts code points: positions are
// converted at this edge with unicount (pitfalls §29).
import { OtClient, fromOperationFields, toOperationInput } from '/demo/ot-client.js';
import { type } from '/demo/ot-text-unicode.js';
import { strPosToUni, uniToStrPos } from '/demo/unicount.js';
import { GRAPHQL, fetchToken as fetchDevToken, request as requestAs } from '/demo/dev-session.js';

const WS_URL = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${GRAPHQL}`;
/** Close codes after which a reconnect cannot help (CONTRACT: close codes in short). */
const FATAL_CLOSES = new Set([1008, 1009, 4400, 4500]);
/** Cursor moves are sent at most this often (they are ephemeral; the last one matters). */
const CURSOR_EVERY_MS = 150;
const COLORS = ['#e8590c', '#2f9e44', '#7048e8', '#d6336c', '#1098ad', '#f08c00'];

const $ = (id) => document.getElementById(id);
const textarea = $('text');

const state = {
  name: '',
  userId: '',
  token: '',
  room: null,
  doc: null,
  /** The OtClient of the open document; its `text` is what the textarea shows. */
  ot: null,
  /** Other users' selections, in code points of the text at `ot.version`: userId -> { name, anchor, head }. */
  cursors: new Map(),
  editors: new Map(),
  sending: false,
};

const DOCUMENT_EVENTS = `subscription DocumentEvents($documentId: ID!, $afterVersion: Int) {
  documentEvents(documentId: $documentId, afterVersion: $afterVersion) {
    __typename
    ... on DocumentEdited { version operation { retain insert delete } clientEditId author { id } }
    ... on EditorJoined { user { id name } }
    ... on EditorLeft { user { id name } }
    ... on CursorMoved { user { id name } version anchor head }
  }
}`;
const EDIT = `mutation Edit($documentId: ID!, $baseVersion: Int!, $operation: [TextOpInput!]!, $clientEditId: ID) {
  editDocument(documentId: $documentId, baseVersion: $baseVersion, operation: $operation, clientEditId: $clientEditId) { version }
}`;

const fetchToken = async () => fetchDevToken(state);
const request = async (query, variables) => requestAs(state, query, variables);

/** One socket per page; (re)subscribes the open document from the version the page has, so nothing is missed. */
function createSocket() {
  let socket = null;
  let subscriptionId = null;
  let counter = 0;
  let attempt = 0;
  let reconnectTimer = null;
  const send = (message) => socket?.readyState === WebSocket.OPEN && socket.send(JSON.stringify(message));

  function subscribeDocument() {
    if (!state.ot || !socket?.acked) return;
    if (subscriptionId) send({ id: subscriptionId, type: 'complete' });
    subscriptionId = `doc-${++counter}`;
    const variables = { documentId: state.doc.id, afterVersion: state.ot.version };
    send({ id: subscriptionId, type: 'subscribe', payload: { query: DOCUMENT_EVENTS, variables } });
  }

  function connect() {
    setStatus('connecting…');
    const current = new WebSocket(WS_URL, 'graphql-transport-ws');
    socket = current;
    current.onopen = () => send({ type: 'connection_init', payload: { authorization: `Bearer ${state.token}` } });
    current.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.type === 'connection_ack') {
        current.acked = true;
        attempt = 0;
        setStatus('online');
        subscriptionId = null;
        subscribeDocument();
      } else if (message.type === 'ping') {
        send({ type: 'pong' });
      } else if (message.type === 'next' && message.id === subscriptionId) {
        const { data, errors } = message.payload;
        if (errors?.length) return onStreamError(errors[0]);
        onDocumentEvent(data.documentEvents);
      } else if (message.type === 'error' && message.id === subscriptionId) {
        onStreamError(message.payload[0]);
      }
    };
    current.onclose = async (event) => {
      if (socket !== current) return;
      socket = null;
      if (FATAL_CLOSES.has(event.code)) return setStatus(`disconnected (${event.code} ${event.reason})`);
      setStatus('reconnecting…');
      if (event.code === 4403) await fetchToken().catch(() => undefined);
      const delay = Math.min(500 * 2 ** attempt++, 10_000) * (0.5 + Math.random() / 2);
      reconnectTimer = setTimeout(connect, delay);
    };
  }

  function onStreamError(error) {
    subscriptionId = null;
    // The edit log no longer reaches back to our version: start again from the document as it is now.
    if (error.extensions?.code === 'VERSION_TOO_OLD') return void openDocument(state.doc);
    setMeta(`⚠ ${error.message}; retrying`);
    setTimeout(subscribeDocument, 1_000);
  }

  return {
    connect,
    subscribeDocument,
    close() {
      clearTimeout(reconnectTimer);
      socket?.close(1000, 'bye');
    },
  };
}

const socket = createSocket();

function setStatus(text) {
  $('status').textContent = text;
}

function setMeta(text) {
  $('meta').textContent = text ?? `version ${state.ot?.version ?? '-'}${state.ot?.pending ? ' · saving…' : ' · saved'}`;
}

/** Where a UTF-16 offset lands after `before` became `after` (a common prefix and suffix around one change). */
function mapOffset(offset, before, after) {
  let prefix = 0;
  const max = Math.min(before.length, after.length);
  while (prefix < max && before[prefix] === after[prefix]) prefix++;
  let suffix = 0;
  while (suffix < max - prefix && before[before.length - 1 - suffix] === after[after.length - 1 - suffix]) suffix++;
  if (offset <= prefix) return offset;
  if (offset >= before.length - suffix) return offset + after.length - before.length;
  return after.length - suffix;
}

/** Shows the OT client's text, keeping the local selection where it was relative to the text around it. */
function render() {
  const text = state.ot.text;
  if (textarea.value !== text) {
    const before = textarea.value;
    const { selectionStart, selectionEnd } = textarea;
    textarea.value = text;
    textarea.setSelectionRange(mapOffset(selectionStart, before, text), mapOffset(selectionEnd, before, text));
  }
  renderPreview();
  setMeta();
}

/** The text with the other editors' cursors and selections. */
function renderPreview() {
  const preview = $('preview');
  const text = state.ot?.text ?? '';
  const marks = [];
  let color = 0;
  for (const [userId, cursor] of state.cursors) {
    const c = COLORS[color++ % COLORS.length];
    const head = uniToStrPos(text, Math.min(cursor.head, [...text].length));
    const anchor = uniToStrPos(text, Math.min(cursor.anchor, [...text].length));
    marks.push({ at: Math.min(anchor, head), end: Math.max(anchor, head), head, userId, name: cursor.name, c });
  }
  const cuts = [...new Set([0, text.length, ...marks.flatMap((m) => [m.at, m.end, m.head])])].sort((a, b) => a - b);
  preview.replaceChildren();
  for (let i = 0; i < cuts.length; i++) {
    for (const mark of marks.filter((m) => m.head === cuts[i])) {
      const caret = document.createElement('span');
      caret.className = 'caret';
      caret.dataset.userId = mark.userId;
      caret.dataset.name = mark.name;
      caret.style.setProperty('--c', mark.c);
      preview.append(caret);
    }
    if (i + 1 >= cuts.length) break;
    const piece = text.slice(cuts[i], cuts[i + 1]);
    const selected = marks.find((m) => m.at <= cuts[i] && cuts[i + 1] <= m.end);
    if (!selected) {
      preview.append(piece);
      continue;
    }
    const span = document.createElement('span');
    span.className = 'selected';
    span.style.setProperty('--c', selected.c);
    span.textContent = piece;
    preview.append(span);
  }
}

/** Typing: the difference between what the OT client has and what the textarea now shows, as one operation. */
function onInput() {
  const before = state.ot.text;
  const after = textarea.value;
  let prefix = 0;
  const max = Math.min(before.length, after.length);
  while (prefix < max && before[prefix] === after[prefix]) prefix++;
  // Never split a surrogate pair: OT positions are code points.
  if (prefix > 0 && /[\ud800-\udbff]/.test(before[prefix - 1])) prefix--;
  let suffix = 0;
  while (suffix < max - prefix && before[before.length - 1 - suffix] === after[after.length - 1 - suffix]) suffix++;
  if (suffix > 0 && /[\udc00-\udfff]/.test(before[before.length - suffix])) suffix--;
  const removed = before.slice(prefix, before.length - suffix);
  const inserted = after.slice(prefix, after.length - suffix);
  const op = [strPosToUni(before, prefix)];
  if (removed) op.push({ d: [...removed].length });
  if (inserted) op.push(inserted);
  state.ot.applyLocal(op);
  render();
  flush();
  moveCursorSoon();
}

/** Sends the waiting edit when none is in flight; the subscription's echo (same clientEditId) acknowledges it. */
async function flush() {
  if (state.sending || !state.ot) return;
  const ot = state.ot;
  let outgoing = ot.takeOutgoing();
  if (!outgoing) return setMeta();
  state.sending = true;
  setMeta();
  for (;;) {
    try {
      await request(EDIT, {
        documentId: state.doc.id,
        baseVersion: outgoing.baseVersion,
        operation: toOperationInput(outgoing.operation),
        clientEditId: outgoing.clientEditId,
      });
      break;
    } catch (error) {
      if (error.code === 'VERSION_TOO_OLD' || error.code === 'BAD_USER_INPUT' || state.ot !== ot) return void openDocument(state.doc);
      // UNAVAILABLE, RATE_LIMITED, a network error: the same edit again (same clientEditId: committed once).
      setMeta(`⚠ ${error.message}; retrying`);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      outgoing = ot.resend() ?? outgoing;
    }
  }
  state.sending = false;
  // The echo may have come before this reply: what was buffered meanwhile goes now.
  flush();
}

let cursorTimer = null;
function moveCursorSoon() {
  if (cursorTimer) return;
  cursorTimer = setTimeout(sendCursor, CURSOR_EVERY_MS);
}

async function sendCursor() {
  cursorTimer = null;
  const ot = state.ot;
  if (!ot) return;
  // Positions must be those of the text at a committed version: wait until our own edits are.
  if (ot.pending) return moveCursorSoon();
  const text = ot.text;
  const uni = (offset) => strPosToUni(text, offset);
  const forward = textarea.selectionDirection !== 'backward';
  const [anchor, head] = forward ? [textarea.selectionStart, textarea.selectionEnd] : [textarea.selectionEnd, textarea.selectionStart];
  await request('mutation($d: ID!, $v: Int!, $a: Int!, $h: Int!) { moveCursor(documentId: $d, version: $v, anchor: $a, head: $h) }', {
    d: state.doc.id,
    v: ot.version,
    a: uni(anchor),
    h: uni(head),
  }).catch(() => undefined);
}

function onDocumentEvent(event) {
  if (!event || !state.ot) return;
  if (event.__typename === 'DocumentEdited') {
    const operation = fromOperationFields(event.operation);
    if (!state.ot.receive({ version: event.version, operation, clientEditId: event.clientEditId })) return;
    // Others' cursors move with the text.
    for (const cursor of state.cursors.values()) {
      cursor.anchor = type.transformPosition(cursor.anchor, operation);
      cursor.head = type.transformPosition(cursor.head, operation);
    }
    render();
    flush();
  } else if (event.__typename === 'CursorMoved') {
    // A cursor from an older version than ours is stale already; the next one will do.
    if (event.version !== state.ot.version) return;
    state.cursors.set(event.user.id, { name: event.user.name, anchor: event.anchor, head: event.head });
    renderPreview();
  } else if (event.__typename === 'EditorJoined') {
    state.editors.set(event.user.id, event.user.name);
    renderEditors();
  } else if (event.__typename === 'EditorLeft') {
    state.editors.delete(event.user.id);
    state.cursors.delete(event.user.id);
    renderEditors();
    renderPreview();
  }
}

function renderEditors() {
  $('editors').replaceChildren(
    ...[...state.editors].map(([id, name]) => {
      const item = document.createElement('li');
      item.dataset.userId = id;
      item.textContent = id === state.userId ? `${name} (you)` : name;
      return item;
    }),
  );
}

async function openDocument(doc) {
  const data = await request('query($id: ID!) { document(id: $id) { id roomId title text version editors { user { id name } } } }', {
    id: doc.id,
  });
  if (!data.document) return setMeta('⚠ no such document');
  state.doc = data.document;
  state.ot = new OtClient({ text: data.document.text, version: data.document.version });
  state.cursors.clear();
  state.editors = new Map(data.document.editors.map((e) => [e.user.id, e.user.name]));
  state.sending = false;
  textarea.disabled = false;
  textarea.value = '';
  $('doc-title').textContent = data.document.title;
  history.replaceState(null, '', `/editor?doc=${encodeURIComponent(data.document.id)}`);
  render();
  renderEditors();
  socket.subscribeDocument();
  if (state.room?.id !== data.document.roomId) await openRoom({ id: data.document.roomId });
  else renderDocuments();
}

async function loadRooms() {
  const data = await request('{ rooms { id name } }');
  $('rooms').replaceChildren(
    ...data.rooms.map((room) => {
      const item = document.createElement('li');
      const button = document.createElement('button');
      button.textContent = `# ${room.name}`;
      button.setAttribute('aria-current', String(state.room?.id === room.id));
      button.onclick = () => openRoom(room);
      item.append(button);
      return item;
    }),
  );
}

async function openRoom(room) {
  const data = await request('query($id: ID!) { room(id: $id) { id name documents { id title } } }', { id: room.id });
  state.room = data.room;
  state.documents = data.room?.documents ?? [];
  $('document-form').hidden = !data.room;
  renderDocuments();
  await loadRooms();
}

function renderDocuments() {
  $('documents').replaceChildren(
    ...(state.documents ?? []).map((doc) => {
      const item = document.createElement('li');
      const button = document.createElement('button');
      button.textContent = doc.title;
      button.setAttribute('aria-current', String(state.doc?.id === doc.id));
      button.onclick = () => openDocument(doc);
      item.append(button);
      return item;
    }),
  );
}

$('login-form').onsubmit = async (event) => {
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
  const docId = new URLSearchParams(location.search).get('doc');
  if (docId) await openDocument({ id: docId });
  else await loadRooms();
};

$('room-form').onsubmit = async (event) => {
  event.preventDefault();
  const data = await request('mutation($name: String!) { createRoom(name: $name) { id name } }', { name: $('room-name').value.trim() });
  $('room-name').value = '';
  await openRoom(data.createRoom);
};

$('document-form').onsubmit = async (event) => {
  event.preventDefault();
  const data = await request('mutation($roomId: ID!, $title: String!) { createDocument(roomId: $roomId, title: $title) { id title } }', {
    roomId: state.room.id,
    title: $('document-title').value.trim(),
  });
  $('document-title').value = '';
  state.documents = [...(state.documents ?? []), data.createDocument];
  await openDocument(data.createDocument);
};

textarea.addEventListener('input', onInput);
for (const name of ['select', 'keyup', 'mouseup']) textarea.addEventListener(name, moveCursorSoon);
document.addEventListener('selectionchange', () => document.activeElement === textarea && moveCursorSoon());
