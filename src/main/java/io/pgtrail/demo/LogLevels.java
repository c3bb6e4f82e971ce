package io.pgtrail.demo;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.ILoggerFactory;
import org.slf4j.LoggerFactory;

/**
 * Quiets the operator's, worker's and servers' logs while the demo prints its own story (they stay
 * available with --verbose); restores the previous levels when closed.
 */
final class LogLevels implements AutoCloseable {
  private static final List<String> LOGGERS = List.of(org.slf4j.Logger.ROOT_LOGGER_NAME, "io.pgtrail", "io.zonky",
      "io.fabric8", "io.javaoperatorsdk", "org.apache.sshd", "io.vertx", "io.netty");

  /** Fabric8's mock web server logs every request through java.util.logging. */
  private static final String MOCK_SERVER_JUL_LOGGER = "io.fabric8.mockwebserver";

  private final Map<Logger, Level> previous = new LinkedHashMap<>();
  // held strongly: java.util.logging keeps loggers only weakly, and a collected logger forgets its level
  private java.util.logging.Logger julLogger;
  private java.util.logging.Level julPrevious;

  private LogLevels() {}

  static LogLevels unchanged() {
    return new LogLevels();
  }

  /** Only errors are logged (to stderr, as configured) until closed. */
  static LogLevels errorsOnly() {
    LogLevels levels = new LogLevels();
    ILoggerFactory factory = LoggerFactory.getILoggerFactory();
    if (factory instanceof LoggerContext context) {
      for (String name : LOGGERS) {
        Logger logger = context.getLogger(name);
        levels.previous.put(logger, logger.getLevel());
        logger.setLevel(Level.ERROR);
      }
    }
    levels.julLogger = java.util.logging.Logger.getLogger(MOCK_SERVER_JUL_LOGGER);
    levels.julPrevious = levels.julLogger.getLevel();
    levels.julLogger.setLevel(java.util.logging.Level.WARNING);
    return levels;
  }

  @Override
  public void close() {
    previous.forEach(Logger::setLevel);
    if (julLogger != null) {
      julLogger.setLevel(julPrevious);
    }
  }
}
