# Pod volumes and env from ConfigMaps/Secrets (agent/volumes): pure logic and plain
# folders in volumes_unit; real tmpfs mounts in volumes_e2e (root).
reef_test(volumes_unit unit
  unit/volumes_atomic_writer_test.cc
  unit/volumes_env_test.cc
  unit/volumes_host_path_test.cc
  unit/volumes_manager_test.cc
  unit/volumes_mounts_test.cc)
target_link_libraries(volumes_unit PRIVATE reef_agent_volumes)

reef_test(volumes_e2e e2e e2e/volumes_tmpfs_test.cc)
target_link_libraries(volumes_e2e PRIVATE reef_agent_volumes)
