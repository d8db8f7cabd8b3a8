reef_test(pods_unit unit unit/static_pods_test.cc unit/agent_state_test.cc unit/pod_status_test.cc)
target_link_libraries(pods_unit PRIVATE reef_agent_pods reef_agent_state)

# reef-agent end to end: real runc, overlay mounts, an image imported from a tarball.
if(TARGET reef-agent)
  reef_test(agent_e2e e2e e2e/agent_static_pods_test.cc support/registry.cc)
  target_link_libraries(agent_e2e PRIVATE reef_image reef_unpack LibArchive::LibArchive)
  add_dependencies(agent_e2e reef-agent reef-monitor)
endif()

# The cluster end to end: a controller and agents in network-namespace hosts.
if(TARGET reef-agent)
  reef_test(cluster_e2e e2e e2e/cluster_test.cc integration/cluster.cc support/registry.cc)
  target_link_libraries(cluster_e2e PRIVATE reef_image reef_unpack LibArchive::LibArchive)
  add_dependencies(cluster_e2e reef-agent reef-monitor reef-controller reefctl)
endif()

# Real workloads end to end: pod networks (CNI), volumes, ConfigMaps and Secrets,
# probes, init containers, teardown after a crash, `reefctl top`.
if(TARGET reef-agent)
  reef_test(workloads_e2e e2e e2e/pod_workloads_test.cc integration/cluster.cc support/registry.cc)
  target_link_libraries(workloads_e2e PRIVATE reef_image reef_unpack LibArchive::LibArchive)
  add_dependencies(workloads_e2e reef-agent reef-monitor reef-controller reefctl)
endif()
