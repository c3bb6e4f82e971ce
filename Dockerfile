# pgtrail production image for those who prefer a Dockerfile to Jib. Both give the same layout:
# the production runtime jar (operator, worker, check, sql; no demo, no bench, no embedded
# PostgreSQL) at /app/pgtrail-runtime.jar, run as the non-root user 10001 with `java -jar`.
#
#   docker build -t registry.example.com/pgtrail:0.1.0 .
#   docker push registry.example.com/pgtrail:0.1.0

FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY pom.xml .
COPY src ./src
COPY k8s-examples ./k8s-examples
# Tests need embedded PostgreSQL and are the CI's job; this stage only packages the jars.
RUN mvn -B -q -Dmaven.test.skip=true package

FROM eclipse-temurin:17-jre
WORKDIR /app
COPY --from=build /src/target/pgtrail-runtime.jar /app/pgtrail-runtime.jar
USER 10001:10001
# /metrics, /healthz and /readyz (PGTRAIL_METRICS_PORT)
EXPOSE 8080
ENTRYPOINT ["java", "-jar", "/app/pgtrail-runtime.jar"]
