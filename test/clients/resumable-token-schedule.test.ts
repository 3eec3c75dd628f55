import { describe, it } from 'vitest';
import { createRefreshTimer, MAX_TIMER_MS, refreshDelay, tokenExpiry } from '../../src/client/token-refresh.ts';
import { fakeClock } from './fake-clock.ts';
import { signTestToken } from '../utils/tokens.ts';

// The schedule math only, on a fake clock: the end-to-end refresh over a socket needs the server's `refreshToken`.

describe('token refresh schedule', () => {
  it('reads exp from a JWT payload (base64url, no verification)', async ({ expect }) => {
    const token = await signTestToken({ sub: 'ü-ser', name: 'Zoë ✓' }, { expiresIn: 1_900_000_000 });
    expect(tokenExpiry(token)).toBe(1_900_000_000_000);
    expect(tokenExpiry(await signTestToken({ sub: 'a' }, { expiresIn: null }))).toBeUndefined();
    expect(tokenExpiry('not a jwt')).toBeUndefined();
    expect(tokenExpiry('a.%%%.c')).toBeUndefined();
  });

  it('refreshes at half the remaining life, at most a minute before expiry', ({ expect }) => {
    expect(refreshDelay(10_000, 0)).toBe(5_000);
    expect(refreshDelay(120_000, 0)).toBe(60_000);
    expect(refreshDelay(3_600_000, 0)).toBe(3_540_000);
    expect(refreshDelay(1_000, 2_000)).toBe(0);
  });

  it('fires once per schedule, and a new schedule replaces the pending one', ({ expect }) => {
    const clock = fakeClock();
    let fired = 0;
    const timer = createRefreshTimer(clock, () => (fired += 1));
    timer.schedule(clock.now() + 10_000);
    clock.advance(4_999);
    expect(fired).toBe(0);
    timer.schedule(clock.now() + 10_000);
    clock.advance(4_999);
    expect(fired).toBe(0);
    clock.advance(1);
    expect(fired).toBe(1);
    clock.advance(60_000);
    expect(fired).toBe(1);
    timer.schedule(clock.now() + 4_000);
    timer.cancel();
    clock.advance(60_000);
    expect(fired).toBe(1);
  });

  it('re-arms in steps a timer cannot overflow on, for a token that lives a year', ({ expect }) => {
    const clock = fakeClock();
    let fired = 0;
    const timer = createRefreshTimer(clock, () => (fired += 1));
    const year = 365 * 24 * 3_600_000;
    timer.schedule(clock.now() + year);
    expect(Math.max(...clock.pending())).toBeLessThanOrEqual(MAX_TIMER_MS);
    clock.advance(year - 60_001);
    expect(fired).toBe(0);
    clock.advance(1);
    expect(fired).toBe(1);
  });
});
