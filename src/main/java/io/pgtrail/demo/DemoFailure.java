package io.pgtrail.demo;

/** The demo cannot go on; the message says what did not happen and where to look. */
final class DemoFailure extends RuntimeException {
  DemoFailure(String message) {
    super(message);
  }

  DemoFailure(String message, Throwable cause) {
    super(message, cause);
  }
}
