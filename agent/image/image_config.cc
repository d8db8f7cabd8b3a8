#include "agent/image/image_config.h"

#include "absl/strings/str_format.h"
#include "agent/image/json_fields.h"

namespace reef::agent::image {

absl::StatusOr<ImageConfig> ParseImageConfig(std::string_view body) {
  ASSIGN_OR_RETURN(json::Json doc, json::Parse(body, "image config"));
  ImageConfig c;
  ASSIGN_OR_RETURN(c.platform.os, json::String(doc, "os", "", /*required=*/true));
  ASSIGN_OR_RETURN(c.platform.architecture,
                   json::String(doc, "architecture", "", /*required=*/true));
  ASSIGN_OR_RETURN(c.platform.variant, json::String(doc, "variant", "", /*required=*/false));

  ASSIGN_OR_RETURN(const json::Json* config, json::Member(doc, "config", ""));
  if (config != nullptr) {
    ASSIGN_OR_RETURN(c.entrypoint, json::StringList(*config, "Entrypoint", "config"));
    ASSIGN_OR_RETURN(c.cmd, json::StringList(*config, "Cmd", "config"));
    ASSIGN_OR_RETURN(c.env, json::StringList(*config, "Env", "config"));
    ASSIGN_OR_RETURN(c.working_dir,
                     json::String(*config, "WorkingDir", "config", /*required=*/false));
    ASSIGN_OR_RETURN(c.user, json::String(*config, "User", "config", /*required=*/false));
    ASSIGN_OR_RETURN(c.stop_signal,
                     json::String(*config, "StopSignal", "config", /*required=*/false));
    ASSIGN_OR_RETURN(c.labels, json::StringMap(*config, "Labels", "config"));
    ASSIGN_OR_RETURN(const json::Json* ports, json::Member(*config, "ExposedPorts", "config"));
    if (ports != nullptr) {
      if (!ports->is_object()) {
        return absl::InvalidArgumentError("config.ExposedPorts: expected an object");
      }
      for (const auto& [port, unused] : ports->items()) c.exposed_ports.push_back(port);
    }
  }

  ASSIGN_OR_RETURN(const json::Json* rootfs, json::Member(doc, "rootfs", ""));
  if (rootfs == nullptr) return absl::InvalidArgumentError("rootfs: required");
  ASSIGN_OR_RETURN(std::string type, json::String(*rootfs, "type", "rootfs", /*required=*/true));
  if (type != "layers") {
    return absl::InvalidArgumentError(
        absl::StrFormat("rootfs.type: \"%s\" is not supported (only \"layers\")", type));
  }
  ASSIGN_OR_RETURN(std::vector<std::string> diff_ids,
                   json::StringList(*rootfs, "diff_ids", "rootfs"));
  for (size_t i = 0; i < diff_ids.size(); ++i) {
    auto digest = Digest::Parse(diff_ids[i]);
    if (!digest.ok()) {
      return Annotate(digest.status(), absl::StrFormat("rootfs.diff_ids[%d]", i));
    }
    c.diff_ids.push_back(*std::move(digest));
  }
  return c;
}

}  // namespace reef::agent::image
