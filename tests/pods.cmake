reef_test(pods_unit unit unit/static_pods_test.cc unit/agent_state_test.cc)
target_link_libraries(pods_unit PRIVATE reef_agent_pods reef_agent_state)
