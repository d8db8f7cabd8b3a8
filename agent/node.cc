#include "agent/node.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <functional>

#include "common/strings.h"

namespace reef::agent {

std::string NodePaths::volatile_dir() const {
  // Keyed by the data dir, which is unique per agent on a machine.
  return reef::StrCat("/run/reef/", std::hash<std::string>{}(data_dir) % 100000000);
}

std::string NodePaths::netns_prefix() const {
  return reef::StrCat("reef-", std::hash<std::string>{}(data_dir) % 100000000, "-");
}

std::string DefaultNodeName() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  std::string s = name;
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace reef::agent
