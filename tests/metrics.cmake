# Resource usage for `reefctl top`: the agent's collector on a fake cgroup and /proc
# tree, the controller's in-memory cache, reefctl's tables (metrics_unit); and a real
# controller and reefctl fed by a node stream in the test process (metrics_top).
reef_test(metrics_unit unit
  unit/metrics_collector_test.cc
  unit/metrics_cache_test.cc
  unit/metrics_top_printer_test.cc)
target_link_libraries(metrics_unit PRIVATE reef_agent_metrics reef_controller reef_cli)

reef_test(metrics_top integration unit/metrics_top_integration_test.cc integration/cluster.cc)
target_link_libraries(metrics_top PRIVATE reef_agent_cluster reef_pki)
add_dependencies(metrics_top reef-controller reefctl)
