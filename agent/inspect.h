#pragma once
// reef-agent's local subcommands: enough to debug a box without a controller.
// Each prints to stdout and returns the process exit code.

#include <string>
#include <vector>

#include "agent/image/image_store.h"
#include "agent/state/agent_state.h"

namespace reef::agent {

// Prints "reef-agent: <message>" on stderr and returns 1, the exit code.
int Fail(const absl::Status& status);

int ImportImages(image::ImageStore& images, const std::vector<std::string>& files);
int ListImages(image::ImageStore& images);
int RemoveImage(image::ImageStore& images, const std::string& reference);
// Keeps the layers of images that pods in `state` use.
int CollectGarbage(image::ImageStore& images, AgentState& state);

// NAMESPACE NAME READY STATUS RESTARTS AGE, then one line per container.
int PrintPods(AgentState& state);
// `pod` is NAMESPACE/NAME or NAME (in "default"); `tail` < 0 prints everything.
int PrintLogs(AgentState& state, const std::string& data_dir, const std::string& pod,
              const std::string& container, int tail);

}  // namespace reef::agent
