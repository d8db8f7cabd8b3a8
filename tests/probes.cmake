# Probes (agent/probes): the manager's thresholds and schedule with a FakeClock and a
# fake Prober, and the httpGet and tcpSocket probers against loopback servers, in
# probes_unit; exec in real runc containers in probes_e2e (root, runc, busybox).
reef_test(probes_unit unit
  unit/probes_manager_test.cc
  unit/probes_network_test.cc
  unit/probes_worker_test.cc)
target_link_libraries(probes_unit PRIVATE reef_agent_probes)

reef_test(probes_e2e e2e e2e/probes_exec_test.cc)
target_link_libraries(probes_e2e PRIVATE reef_agent_probes)
add_dependencies(probes_e2e reef-monitor)
