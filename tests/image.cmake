# Images (agent/image): pure logic and pull flows against an in-memory registry...
reef_test(image_unit unit
  unit/image_auth_test.cc
  unit/image_content_store_test.cc
  unit/image_manifest_test.cc
  unit/image_reference_test.cc
  unit/image_registries_config_test.cc
  unit/image_registry_client_test.cc
  unit/image_store_test.cc
  support/registry.cc)
target_link_libraries(image_unit PRIVATE reef_image LibArchive::LibArchive)

# ...and against a real docker-registry on 127.0.0.1, with the test image built from
# busybox-static by umoci and pushed by skopeo (needs docker-registry, skopeo, umoci,
# busybox-static, apache2-utils, openssl, python3).
reef_test(image_e2e e2e
  e2e/registry_pull_test.cc
  e2e/registry_faults_test.cc
  e2e/registry_import_test.cc
  e2e/registry_bench_test.cc
  support/registry.cc)
target_link_libraries(image_e2e PRIVATE reef_image reef_unpack)
