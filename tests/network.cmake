# Pod networking (agent/network): configs, results and fake plugins in network_unit;
# the real CNI plugins, iptables and busybox in network_e2e (root), inside a network
# namespace of the test's own.
reef_test(network_unit unit unit/network_config_test.cc)
target_link_libraries(network_unit PRIVATE reef_agent_network reef_monitor_core)

reef_test(network_e2e e2e e2e/network_cni_test.cc)
target_link_libraries(network_e2e PRIVATE reef_agent_network)
