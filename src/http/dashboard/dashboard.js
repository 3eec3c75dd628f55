// The operations dashboard: one `dashboard` subscription over SSE (fetch + a stream reader, no library), a
// snapshot then deltas applied by id, and uPlot time series per instance. Plain ES module, no build step.
import uPlot from '/dashboard/uplot.js';

const QUERY = `subscription Dashboard {
  dashboard {
    __typename
    ... on DashboardSnapshot { at totals { ...Totals } instances { ...Instance } rooms { ...Room } }
    ... on DashboardDelta { at totals { ...Totals } instances { ...Instance } rooms { ...Room } removedInstances removedRooms }
  }
}
fragment Totals on ServerStats { instances connections subscriptions messagesPerSecond deliveriesPerSecond }
fragment Instance on InstanceStats { id connections subscriptions messagesPerSecond deliveriesPerSecond eventLoopLagMs rssBytes }
fragment Room on RoomStats { roomId name online messagesPerSecond }`;

const METRICS = [
  { key: 'connections', title: 'Connections' },
  { key: 'subscriptions', title: 'Subscriptions' },
  { key: 'messagesPerSecond', title: 'Messages / s' },
  { key: 'deliveriesPerSecond', title: 'Deliveries / s' },
  { key: 'eventLoopLagMs', title: 'Event-loop lag (ms, p99)' },
];
const COLORS = ['#2f6fde', '#d9480f', '#2f8f4e', '#8e44ad', '#c2185b', '#00838f', '#6d4c41', '#f9a825'];
const MAX_POINTS = 300;
const TOKEN_KEY = 'dashboard-admin-token';

const $ = (id) => document.getElementById(id);
const status = (text, kind = '') => {
  $('status').textContent = text;
  $('status').className = kind;
};

// What the subscription says now (snapshot + deltas), and the history the charts draw.
const state = { instances: new Map(), rooms: new Map() };
const history = { times: [], ids: [], values: new Map() }; // values: metric -> id -> number|null[]
let charts = [];
let events = 0;

function apply(event) {
  if (event.__typename === 'DashboardSnapshot') {
    state.instances = new Map(event.instances.map((entry) => [entry.id, entry]));
    state.rooms = new Map(event.rooms.map((entry) => [entry.roomId, entry]));
  } else {
    for (const id of event.removedInstances) state.instances.delete(id);
    for (const id of event.removedRooms) state.rooms.delete(id);
    for (const entry of event.instances) state.instances.set(entry.id, entry);
    for (const entry of event.rooms) state.rooms.set(entry.roomId, entry);
  }
  events += 1;
  record(Date.parse(event.at) / 1000);
  showTotals(event.totals);
  showRooms();
}

function record(time) {
  const known = new Set(history.ids);
  const added = [...state.instances.keys()].filter((id) => !known.has(id));
  for (const id of added) {
    history.ids.push(id);
    for (const { key } of METRICS) {
      if (!history.values.has(key)) history.values.set(key, new Map());
      history.values.get(key).set(
        id,
        history.times.map(() => null),
      );
    }
  }
  history.times.push(time);
  for (const { key } of METRICS) {
    for (const id of history.ids)
      history.values
        .get(key)
        .get(id)
        .push(state.instances.get(id)?.[key] ?? null);
  }
  if (history.times.length > MAX_POINTS) {
    history.times.shift();
    for (const series of history.values.values()) for (const values of series.values()) values.shift();
  }
  if (added.length > 0 || charts.length === 0) buildCharts();
  else for (const chart of charts) chart.plot.setData(chart.data());
  $('charts').dataset.points = String(history.times.length);
  $('charts').dataset.events = String(events);
}

const label = (id) => `instance ${id.slice(0, 8)}`;

function buildCharts() {
  for (const chart of charts) chart.plot.destroy();
  $('charts').replaceChildren();
  const width = Math.max(480, Math.min(760, Math.floor((document.body.clientWidth - 64) / 2)));
  charts = METRICS.map(({ key, title }) => {
    const panel = document.createElement('section');
    panel.className = 'panel chart';
    panel.dataset.metric = key;
    $('charts').append(panel);
    const data = () => [history.times, ...history.ids.map((id) => history.values.get(key).get(id))];
    const plot = new uPlot(
      {
        title,
        width,
        height: 200,
        scales: { x: { time: true }, y: { range: (_u, min, max) => [Math.min(0, min ?? 0), Math.max(1, (max ?? 1) * 1.1)] } },
        series: [
          {},
          ...history.ids.map((id, index) => ({ label: label(id), stroke: COLORS[index % COLORS.length], width: 2, spanGaps: false })),
        ],
      },
      data(),
      panel,
    );
    return { plot, data };
  });
}

function showTotals(totals) {
  $('total-instances').textContent = totals.instances;
  $('total-connections').textContent = totals.connections;
  $('total-subscriptions').textContent = totals.subscriptions;
  $('total-messages').textContent = totals.messagesPerSecond.toFixed(1);
  $('total-deliveries').textContent = totals.deliveriesPerSecond.toFixed(1);
}

function showRooms() {
  const rows = [...state.rooms.values()]
    .sort((a, b) => b.messagesPerSecond - a.messagesPerSecond || b.online - a.online || a.roomId.localeCompare(b.roomId))
    .map((room) => {
      const row = document.createElement('tr');
      row.dataset.roomId = room.roomId;
      for (const [text, number] of [
        [room.name, false],
        [String(room.online), true],
        [room.messagesPerSecond.toFixed(1), true],
      ]) {
        const cell = document.createElement('td');
        cell.textContent = text;
        if (number) cell.className = 'number';
        row.append(cell);
      }
      return row;
    });
  $('rooms').replaceChildren(...rows);
}

/** Outside production the server mints a dev admin token; otherwise the operator pastes one (kept for this tab). */
async function getToken() {
  const response = await fetch('/dev/admin-token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  if (response.ok) return (await response.json()).token;
  const stored = sessionStorage.getItem(TOKEN_KEY);
  if (stored) return stored;
  $('login').classList.add('shown');
  status('admin token needed');
  return new Promise((resolve) => {
    $('login').addEventListener(
      'submit',
      (event) => {
        event.preventDefault();
        const token = $('token')
          .value.trim()
          .replace(/^Bearer\s+/i, '');
        sessionStorage.setItem(TOKEN_KEY, token);
        $('login').classList.remove('shown');
        resolve(token);
      },
      { once: true },
    );
  });
}

/** One subscription over SSE; resolves when the stream ends, rejects with the GraphQL error code if refused. */
async function watch(token) {
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: QUERY }),
  });
  if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const kind = /^event: (.*)$/m.exec(block)?.[1];
      const data = block
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trimStart())
        .join('\n');
      if (kind === 'complete') return;
      if (kind !== 'next' || !data) continue;
      const payload = JSON.parse(data);
      if (payload.errors?.length) {
        const error = new Error(payload.errors[0].message);
        error.code = payload.errors[0].extensions?.code;
        throw error;
      }
      status('live', 'live');
      apply(payload.data.dashboard);
    }
  }
}

async function run() {
  for (;;) {
    try {
      status('connecting…');
      await watch(await getToken());
      status('reconnecting…');
    } catch (error) {
      if (error.code === 'FORBIDDEN' || error.code === 'UNAUTHENTICATED') sessionStorage.removeItem(TOKEN_KEY);
      status(error.code ? `${error.code}: ${error.message}` : `disconnected (${error.message})`, 'error');
    }
    // Each new subscription starts with a snapshot, so nothing is lost but the points while away.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }
}

void run();
