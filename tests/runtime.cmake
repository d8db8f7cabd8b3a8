# The container runtime (agent/runtime): pure logic in runtime_unit; real runc
# containers under real reef-monitor processes in runtime_e2e (root, runc, busybox).
reef_test(runtime_unit unit
  unit/runtime_capabilities_test.cc
  unit/runtime_cgroups_test.cc
  unit/runtime_cri_log_test.cc
  unit/runtime_exit_record_test.cc
  unit/runtime_monitor_protocol_test.cc
  unit/runtime_oci_spec_test.cc
  unit/runtime_restart_policy_test.cc
  unit/runtime_runc_output_test.cc
  unit/runtime_user_db_test.cc)
target_link_libraries(runtime_unit PRIVATE reef_runtime)

reef_test(runtime_e2e e2e e2e/runtime_runc_test.cc)
target_link_libraries(runtime_e2e PRIVATE reef_runtime)
add_dependencies(runtime_e2e reef-monitor)
