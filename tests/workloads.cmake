# The controller's control loops (controller/reconcile, controller/scheduler) and the
# rollout verbs of reefctl: unit tests on a SQLite store in memory with a FakeClock.
reef_test(unit_workloads unit
  unit/workloads_fixture.cc
  unit/reconcile_basics_test.cc
  unit/replica_set_test.cc
  unit/deployment_test.cc
  unit/daemon_set_test.cc
  unit/scheduler_test.cc
  unit/node_lifecycle_test.cc
  unit/garbage_collector_test.cc
  unit/replica_set_kind_test.cc)
target_link_libraries(unit_workloads PRIVATE reef_controller reef_manifest)

reef_test(unit_rollout unit unit/rollout_test.cc unit/workload_printers_test.cc)
target_link_libraries(unit_rollout PRIVATE reef_cli)

# The Deployment / DaemonSet / scheduler / node lifecycle loop through the real
# reef-controller, driven with reefctl.
reef_test(integration_workloads integration integration/workloads_test.cc integration/cluster.cc)
target_link_libraries(integration_workloads PRIVATE reef_common)
add_dependencies(integration_workloads reef-controller reefctl)

# The controller's side of the agent streams (controller/agents).
reef_test(unit_agent_hub unit unit/agent_hub_test.cc unit/pod_cidr_test.cc)
target_link_libraries(unit_agent_hub PRIVATE reef_controller reef_manifest)
