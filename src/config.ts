/**
 * The only reader of the environment. Every limit, TTL and timeout has a documented default here and in the
 * README's env table; `loadConfig` fails fast with every problem listed, so a typo never starts a server.
 */
export interface Config {
  port: number;
  host: string;
  production: boolean;
  logLevel: string;
  /** Unset: one process with in-memory pub/sub and storage. */
  redisUrl: string | null;
  /** Put on every Redis key and channel. @default "chat:" */
  redisPrefix: string;
  auth: AuthConfig;
  limits: Limits;
  /** Messages kept per room. @default 10_000 */
  historyLimit: number;
  /** Edits kept per document; an older baseVersion or afterVersion gets VERSION_TOO_OLD. @default 1_000 */
  docHistoryLimit: number;
  /** A setTyping(true) without renewal ends after this. @default 5_000 */
  typingTtlMs: number;
  /** A dead instance's members are reported left within this. @default 3 x HEARTBEAT_INTERVAL_MS capped at 30 s */
  presenceTtlMs: number;
  /** SIGTERM: exit within this even if clients linger. @default 10_000 */
  shutdownTimeoutMs: number;
  dashboard: DashboardConfig;
  /** Serves `POST /dev/token` and the demo page: never in production, and only with the built-in dev secret (see app.ts). */
  devTokens: boolean;
}

/** The live dashboard's busiest rooms (issue 13). */
export interface DashboardConfig {
  /** A room with nobody present and no message for this long leaves the busiest rooms (contract: a minute). @default 60_000 */
  roomIdleMs: number;
  /** Rooms each instance writes with its record per second (its busiest), bounding the record's size. @default 200 */
  roomsPerInstance: number;
}

export type AuthConfig =
  | { kind: 'secret'; secret: string; devSecret: boolean; issuer?: string; audience?: string }
  | { kind: 'public-key'; publicKeyPem: string; issuer?: string; audience?: string }
  | { kind: 'jwks'; jwksUrl: string; issuer?: string; audience?: string };

export interface Limits {
  /** Empty: any Origin. */
  allowedOrigins: readonly string[];
  /** Sockets per instance; the next upgrade gets HTTP 503. @default 10_000 */
  maxConnections: number;
  /** Largest WebSocket frame; larger closes 1009. @default 65_536 */
  maxPayloadBytes: number;
  /** sendMessage per user per second (bucket refill rate). @default 10 */
  messageRate: number;
  /** Bucket size for MESSAGE_RATE. @default 2 x MESSAGE_RATE */
  messageBurst: number;
  /** createRoom per user per minute (bucket size and refill per minute); more gets RATE_LIMITED. @default 30 */
  roomRate: number;
  /** setTyping per user per second (bucket size and refill per second); more gets RATE_LIMITED. @default 5 */
  typingRate: number;
  /** editDocument and createDocument per user per second (bucket refill rate); more gets RATE_LIMITED. @default 20 */
  editRate: number;
  /** Bucket size for EDIT_RATE. @default 2 x EDIT_RATE */
  editBurst: number;
  /** moveCursor per user per second (bucket size and refill per second); more gets RATE_LIMITED. @default 10 */
  cursorRate: number;
  /** Code points a collaborative document may hold; an edit or createDocument past it gets BAD_USER_INPUT. @default 1_000_000 */
  docMaxChars: number;
  /** Frames per socket per second, pings included; more closes 1008. @default 100 */
  frameRate: number;
  /** @default 100 */
  maxSubscriptionsPerConnection: number;
  /** Ping sweep period; a socket that missed the previous pong is terminated. @default 30_000 */
  heartbeatIntervalMs: number;
  /** No connection_init within this closes 4408; also bounds a slow onConnect. @default 10_000 */
  connectionInitTimeoutMs: number;
  /** Unsent bytes past which a socket is closed 1013. @default 4_194_304 */
  slowConsumerBytes: number;
  /** Concurrent `after` replays per user on this instance; more wait their turn. @default 4 */
  maxReplaysPerUser: number;
  /** Events queued per userEvents subscriber; past it the oldest is dropped (user events are hints). @default 100 */
  userEventQueue: number;
  /** Largest HTTP request body; larger gets HTTP 413 (Yoga `maxRequestBodySize`). @default 1_048_576 */
  maxHttpBodyBytes: number;
  /**
   * Failed connection_init attempts (bad or expired token, hung key fetch) per remote address within
   * INIT_FAILURE_WINDOW_MS; past it, upgrades from that address get HTTP 429 until the window ends. @default 20
   */
  initFailuresPerAddress: number;
  /** @default 60_000 */
  initFailureWindowMs: number;
  /** Open sockets and SSE streams per client address; one more gets HTTP 429 (see README "Connection limits"). @default 100 */
  maxConnectionsPerAddress: number;
  /** Proxy hops in front whose X-Forwarded-For is trusted for the client address (1: the shipped nginx); 0 trusts none. @default 0 */
  trustProxy: number;
  /** A peer that has not answered the server's close frame within this of being able to read it is cut (ws waits 30 s). @default 2_000 */
  closeGraceMs: number;
  /** Schema introspection (`__schema`, `__type`). @default true outside production, false with NODE_ENV=production */
  introspection: boolean;
  /** graphql-armor limits, over HTTP, SSE and WebSocket alike; a query past one gets GRAPHQL_VALIDATION_FAILED. */
  graphql: {
    /** Selection depth in fields (fragments, named or inline, add no level). @default 10 */
    maxDepth: number;
    /** Aliases per operation. @default 15 */
    maxAliases: number;
    /** Lexical tokens per document (GraphiQL's introspection query is about 200). @default 1_000 */
    maxTokens: number;
    /** Directives per operation. @default 50 */
    maxDirectives: number;
    /** graphql-armor cost (objects 2, scalars 1, times 1.5 per level). @default 5_000 */
    maxCost: number;
  };
}

/** The HS256 secret used outside production when none is configured; printed tokens are signed with it. */
export const DEV_JWT_SECRET = 'dev-only-insecure-secret-change-me-0123456789';

type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function loadConfig(env: Env): Readonly<Config> {
  const problems: string[] = [];
  const text = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value ? value : undefined;
  };
  const int = (name: string, fallback: number, min = 0): number => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value < min) {
      problems.push(`${name} must be an integer >= ${min}, got "${raw}"`);
      return fallback;
    }
    return value;
  };

  const bool = (name: string, fallback: boolean): boolean => {
    const raw = text(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (raw === 'true' || raw === '1') return true;
    if (raw === 'false' || raw === '0') return false;
    problems.push(`${name} must be true or false, got "${raw}"`);
    return fallback;
  };

  const production = env.NODE_ENV === 'production';
  const heartbeatIntervalMs = int('HEARTBEAT_INTERVAL_MS', 30_000, 10);
  const messageRate = int('MESSAGE_RATE', 10, 1);
  const editRate = int('EDIT_RATE', 20, 1);
  const auth = loadAuth(text, production, problems);

  const redisUrl = text('REDIS_URL') ?? null;
  if (redisUrl && !/^rediss?:\/\//.test(redisUrl)) problems.push(`REDIS_URL must start with redis:// or rediss://`);

  const config: Config = {
    port: int('PORT', 4000),
    host: text('HOST') ?? '0.0.0.0',
    production,
    logLevel: text('LOG_LEVEL') ?? (env.NODE_ENV === 'test' ? 'silent' : 'info'),
    redisUrl,
    redisPrefix: env.REDIS_PREFIX ?? 'chat:',
    auth,
    limits: {
      allowedOrigins: (text('ALLOWED_ORIGINS') ?? '')
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
      maxConnections: int('MAX_CONNECTIONS', 10_000, 1),
      maxPayloadBytes: int('MAX_PAYLOAD_BYTES', 65_536, 256),
      messageRate,
      messageBurst: int('MESSAGE_BURST', messageRate * 2, 1),
      roomRate: int('ROOM_RATE', 30, 1),
      typingRate: int('TYPING_RATE', 5, 1),
      editRate,
      editBurst: int('EDIT_BURST', editRate * 2, 1),
      cursorRate: int('CURSOR_RATE', 10, 1),
      docMaxChars: int('DOC_MAX_CHARS', 1_000_000, 1),
      frameRate: int('FRAME_RATE', 100, 1),
      maxSubscriptionsPerConnection: int('MAX_SUBSCRIPTIONS_PER_CONNECTION', 100, 1),
      heartbeatIntervalMs,
      connectionInitTimeoutMs: int('CONNECTION_INIT_TIMEOUT_MS', 10_000, 1),
      slowConsumerBytes: int('SLOW_CONSUMER_BYTES', 4 * 1024 * 1024, 1024),
      maxReplaysPerUser: int('MAX_REPLAYS_PER_USER', 4, 1),
      userEventQueue: int('USER_EVENT_QUEUE', 100, 1),
      maxHttpBodyBytes: int('MAX_HTTP_BODY_BYTES', 1024 * 1024, 1024),
      initFailuresPerAddress: int('INIT_FAILURES_PER_ADDRESS', 20, 1),
      initFailureWindowMs: int('INIT_FAILURE_WINDOW_MS', 60_000, 10),
      maxConnectionsPerAddress: int('MAX_CONNECTIONS_PER_ADDRESS', 100, 1),
      trustProxy: int('TRUST_PROXY', 0, 0),
      closeGraceMs: int('CLOSE_GRACE_MS', 2_000, 10),
      introspection: bool('INTROSPECTION', !production),
      graphql: {
        maxDepth: int('GRAPHQL_MAX_DEPTH', 10, 1),
        maxAliases: int('GRAPHQL_MAX_ALIASES', 15, 0),
        maxTokens: int('GRAPHQL_MAX_TOKENS', 1_000, 10),
        maxDirectives: int('GRAPHQL_MAX_DIRECTIVES', 50, 0),
        maxCost: int('GRAPHQL_MAX_COST', 5_000, 1),
      },
    },
    historyLimit: int('HISTORY_LIMIT', 10_000, 1),
    docHistoryLimit: int('DOC_HISTORY_LIMIT', 1_000, 1),
    typingTtlMs: int('TYPING_TTL_MS', 5_000, 10),
    presenceTtlMs: int('PRESENCE_TTL_MS', Math.min(3 * heartbeatIntervalMs, 30_000), 50),
    shutdownTimeoutMs: int('SHUTDOWN_TIMEOUT_MS', 10_000, 100),
    dashboard: {
      roomIdleMs: int('DASHBOARD_ROOM_IDLE_MS', 60_000, 100),
      roomsPerInstance: int('DASHBOARD_ROOMS_PER_INSTANCE', 200, 50),
    },
    devTokens: !production && env.DEV_TOKENS !== 'false',
  };
  if (problems.length) throw new ConfigError(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
  return Object.freeze(config);
}

function loadAuth(text: (name: string) => string | undefined, production: boolean, problems: string[]): AuthConfig {
  const claims = {
    ...(text('JWT_ISSUER') ? { issuer: text('JWT_ISSUER') } : {}),
    ...(text('JWT_AUDIENCE') ? { audience: text('JWT_AUDIENCE') } : {}),
  };
  const secret = text('JWT_SECRET');
  const publicKeyPem = text('JWT_PUBLIC_KEY')?.replace(/\\n/g, '\n');
  const jwksUrl = text('JWKS_URL');
  const configured = [secret, publicKeyPem, jwksUrl].filter(Boolean).length;
  if (configured > 1) problems.push('set only one of JWT_SECRET, JWT_PUBLIC_KEY, JWKS_URL');
  if (secret) {
    if (Buffer.byteLength(secret) < 32) problems.push('JWT_SECRET must be at least 32 bytes (HS256 needs a 256-bit key)');
    return { kind: 'secret', secret, devSecret: false, ...claims };
  }
  if (publicKeyPem) {
    if (!publicKeyPem.includes('BEGIN PUBLIC KEY')) problems.push('JWT_PUBLIC_KEY must be a PEM "PUBLIC KEY" (SPKI)');
    return { kind: 'public-key', publicKeyPem, ...claims };
  }
  if (jwksUrl) {
    if (!/^https?:\/\//.test(jwksUrl)) problems.push('JWKS_URL must be an http(s) URL');
    return { kind: 'jwks', jwksUrl, ...claims };
  }
  if (production) problems.push('NODE_ENV=production needs JWT_SECRET, JWT_PUBLIC_KEY or JWKS_URL');
  return { kind: 'secret', secret: DEV_JWT_SECRET, devSecret: true, ...claims };
}
