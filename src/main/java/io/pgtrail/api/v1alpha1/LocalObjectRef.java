package io.pgtrail.api.v1alpha1;

import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/** A reference by name to an object in the same namespace. */
public class LocalObjectRef {
  @Required
  @Size(min = 1, max = 253)
  public String name;

  public LocalObjectRef() {}

  public LocalObjectRef(String name) {
    this.name = name;
  }
}
