#pragma once

#include <string>

namespace reef {

// A random (version 4) UUID in its canonical lowercase form, for object uids.
std::string NewUuid();

}  // namespace reef
