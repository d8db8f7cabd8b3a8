# reef_unpack: layer unpacking, per-layer snapshots and overlay mounts. A library of
# its own so that it builds apart from the registry client (reef_image), which reaches
# it only through the Snapshotter interface.
find_package(LibArchive REQUIRED)

add_library(reef_unpack STATIC
  ${CMAKE_CURRENT_LIST_DIR}/layer_unpack.cc
  ${CMAKE_CURRENT_LIST_DIR}/overlay.cc
  ${CMAKE_CURRENT_LIST_DIR}/snapshotter.cc)
target_include_directories(reef_unpack PUBLIC ${CMAKE_SOURCE_DIR})
target_link_libraries(reef_unpack
  PUBLIC reef_common absl::synchronization
  PRIVATE LibArchive::LibArchive OpenSSL::Crypto nlohmann_json::nlohmann_json reef_warnings)
