# Layer unpacking, snapshots and overlay rootfs (agent/image/unpack.cmake).
if(NOT TARGET reef_unpack)
  include(${CMAKE_SOURCE_DIR}/agent/image/unpack.cmake)
endif()

# Tars built in the test with libarchive's writer; a few cases need root and say so.
reef_test(unpack_unit unit unit/layer_unpack_test.cc)
target_link_libraries(unpack_unit PRIVATE reef_unpack LibArchive::LibArchive)

# Real overlay mounts over a busybox-static layer made with umoci (root).
reef_test(unpack_e2e e2e e2e/overlay_test.cc)
target_link_libraries(unpack_e2e PRIVATE reef_unpack LibArchive::LibArchive
                      nlohmann_json::nlohmann_json)
