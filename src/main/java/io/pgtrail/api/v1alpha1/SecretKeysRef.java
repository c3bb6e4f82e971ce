package io.pgtrail.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/** A Secret in the resource's namespace holding a user name and a password. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class SecretKeysRef {
  @Required
  @Size(min = 1, max = 253)
  public String name;

  @Default("username")
  public String usernameKey = "username";

  @Default("password")
  public String passwordKey = "password";

  public SecretKeysRef() {}

  public SecretKeysRef(String name) {
    this.name = name;
  }
}
