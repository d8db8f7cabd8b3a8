reef_test(pods_unit unit unit/static_pods_test.cc)
target_link_libraries(pods_unit PRIVATE reef_agent_pods)
