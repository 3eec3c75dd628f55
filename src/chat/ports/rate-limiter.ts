/** Token buckets, shared by every instance that shares the store. */
export interface RateLimiter {
  /** Takes one token from `key`'s bucket; false when the bucket is empty (nothing taken). */
  take(key: string): Promise<boolean>;
}
