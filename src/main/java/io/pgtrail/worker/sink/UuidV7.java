package io.pgtrail.worker.sink;

import java.security.SecureRandom;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.function.LongSupplier;

/**
 * UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then a 42-bit counter (RFC 9562 section 6.2,
 * method 1) seeded at random each millisecond and incremented within it, then 32 random bits. Ids from one
 * generator are strictly increasing, so the primary key index of {@code changes} is appended to rather than
 * written all over; ids from different generators (restarts, other workers) differ in their random bits.
 * When the counter runs out within a millisecond, the generator borrows the next millisecond.
 */
public final class UuidV7 {
  private static final long VERSION_7 = 0x7000L;
  private static final long VARIANT_RFC = 0x8000_0000_0000_0000L;
  private static final int COUNTER_BITS = 42; // 12 bits of rand_a + the top 30 bits of rand_b
  private static final long COUNTER_MAX = (1L << COUNTER_BITS) - 1;

  private final LongSupplier clockMillis;
  private final SplittableRandom random;
  private long lastMillis = Long.MIN_VALUE;
  private long counter;

  public UuidV7() {
    this(System::currentTimeMillis);
  }

  /** A generator on another millisecond clock (tests). */
  public UuidV7(LongSupplier clockMillis) {
    this.clockMillis = clockMillis;
    this.random = new SplittableRandom(new SecureRandom().nextLong());
  }

  /** The next id: most and least significant 64 bits, as PostgreSQL's 16-byte uuid stores them. */
  public synchronized long[] nextBits() {
    long now = clockMillis.getAsLong();
    if (now > lastMillis) {
      lastMillis = now;
      counter = random.nextLong() >>> (64 - COUNTER_BITS + 1); // top bit clear: room to count up
    } else if (counter < COUNTER_MAX) {
      counter++;
    } else {
      lastMillis++;
      counter = random.nextLong() >>> (64 - COUNTER_BITS + 1);
    }
    long msb = (lastMillis << 16) | VERSION_7 | (counter >>> 30);
    long lsb = VARIANT_RFC | ((counter & 0x3FFF_FFFFL) << 32) | (random.nextLong() & 0xFFFF_FFFFL);
    return new long[] {msb, lsb};
  }

  public UUID next() {
    long[] bits = nextBits();
    return new UUID(bits[0], bits[1]);
  }

  /** The millisecond timestamp of a version 7 id. */
  public static long millis(UUID id) {
    return id.getMostSignificantBits() >>> 16;
  }
}
