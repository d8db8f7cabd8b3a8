#include "tests/support/source_tree.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace reef::testing {

std::string SourceDir() {
  const char* dir = std::getenv("REEF_SOURCE_DIR");
  if (dir == nullptr || *dir == '\0') {
    throw std::runtime_error("REEF_SOURCE_DIR is not set: run the tests through ctest");
  }
  return dir;
}

std::string ReadSourceFile(std::string_view relative_path) {
  std::string path = SourceDir() + "/" + std::string(relative_path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace reef::testing
