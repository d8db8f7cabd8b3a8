#pragma once
// The parts of an image's config blob (OCI image config / Docker image JSON) that the
// agent uses to run a container and to check the image suits the node.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "agent/image/digest.h"
#include "agent/image/platform.h"
#include "common/status.h"

namespace reef::agent::image {

struct ImageConfig {
  Platform platform;  // architecture, os, variant
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::vector<std::string> env;  // "KEY=value"
  std::string working_dir;
  std::string user;
  std::string stop_signal;
  std::map<std::string, std::string> labels;
  std::vector<std::string> exposed_ports;  // "80/tcp"
  std::vector<Digest> diff_ids;            // uncompressed layer digests, base first
};

// InvalidArgument naming the field (`config.Env[1]: expected a string`).
absl::StatusOr<ImageConfig> ParseImageConfig(std::string_view body);

}  // namespace reef::agent::image
