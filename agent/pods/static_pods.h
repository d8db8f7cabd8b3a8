#pragma once
// Static pods: the pods a box runs from manifest files in --manifest-dir, with no
// controller at all, as the kubelet's static pods. A Pod runs as written; a
// Deployment or DaemonSet contributes its pod template, once (one replica on this
// box). Pod names get the node name appended, as the kubelet does ("web-pi-1"), so
// that they cannot clash with pods the controller sends later.

#include <map>
#include <string>
#include <vector>

#include "api/manifest/object.h"
#include "common/status.h"

namespace reef::agent {

struct StaticPod {
  reef::v1::Pod pod;
  std::string source;     // the manifest file it came from
  std::string spec_hash;  // changes whenever the pod's desired state changes
};

struct StaticPodSet {
  std::map<std::string, StaticPod> pods;  // by "namespace/name"
  // One line per file that could not be used; the other files still count.
  std::vector<std::string> errors;
};

// Reads every *.yaml, *.yml and *.json file directly in `dir`. A missing folder is an
// empty set, not an error (the box may get manifests later).
StaticPodSet LoadStaticPods(const std::string& dir, const std::string& node_name);

// The pod a workload's template stands for on this node.
reef::v1::Pod PodFromTemplate(const reef::v1::Object& workload, const std::string& node_name);

// "namespace/name".
std::string PodKey(const reef::v1::Pod& pod);

// A stable hash (hex sha256) of everything in the pod that decides how its
// containers run: metadata.labels, annotations and spec.
std::string PodSpecHash(const reef::v1::Pod& pod);

}  // namespace reef::agent
