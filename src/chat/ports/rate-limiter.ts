/** Token buckets, shared by every instance that shares the store. */
export interface RateLimiter {
  /**
   * Takes one token from `key`'s bucket; false when the bucket is empty (nothing taken). sendMessage spends its
   * MESSAGE_RATE tokens inside `MessageStore.append`, from the same buckets as this limiter's `take`.
   */
  take(key: string): Promise<boolean>;
}
