# The Node an agent reports, built from fixture facts (unit/testdata/node_info).
if(TARGET reef_agent)
  reef_test(unit_node_info unit unit/node_info_test.cc)
  target_link_libraries(unit_node_info PRIVATE reef_agent)
endif()
