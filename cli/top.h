#pragma once
// `reefctl top` tables: kubectl top's columns and units (cpu in millicores "12m",
// memory in mebibytes "34Mi", percentages of the node's allocatable), built from
// ApiService.Top's metrics.k8s.io-shaped figures.

#include <string>
#include <vector>

#include "reef/v1/api.pb.h"

namespace reef::cli {

// `top nodes`: NAME CPU(cores) CPU% MEMORY(bytes) MEMORY%. The percentages are of
// each node's allocatable, from `nodes` (the Node objects). Rows are sorted by name,
// or by usage, highest first, with `sort_by` "cpu" or "memory". A node of `nodes`
// without figures comes last, "<unknown>" in every column, as in kubectl; so does a
// figure a node has not reported yet (cpu needs two samples).
std::string RenderTopNodes(std::vector<v1::NodeMetrics> metrics, const std::vector<v1::Node>& nodes,
                           std::string_view sort_by);

struct TopPodsFormat {
  bool with_namespace = false;  // -A: a NAMESPACE column first
  bool containers = false;      // --containers: one row per container, POD first
  std::string sort_by;          // "", "cpu" or "memory"
};

// `top pods`: NAME CPU(cores) MEMORY(bytes). A pod's usage is its cgroup's when the
// agent read it (it includes a container that restarted within the window), else the
// sum of its containers', as kubectl sums them. Sorted by namespace and name, or by
// usage, highest first.
std::string RenderTopPods(std::vector<v1::PodMetrics> metrics, const TopPodsFormat& format);

}  // namespace reef::cli
