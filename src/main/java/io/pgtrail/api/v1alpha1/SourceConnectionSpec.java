package io.pgtrail.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.generator.annotation.ValidationRule;

/** The source database endpoint; the database cannot change in place (the slot lives in it). */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "self.database == oldSelf.database",
    message = "connection.database cannot change: the slot and publication live in that database")
public class SourceConnectionSpec extends PostgresEndpointSpec {}
