#pragma once
// The Pod sections of `reefctl describe`: a Pod's own body, and the Pod Template block
// that Deployments and DaemonSets print. Internal to reefctl.

#include "cli/describe_writer.h"
#include "reef/v1/core.pb.h"

namespace reef::cli::describe {

// Everything kubectl prints for a Pod after its metadata: Node, Status, IP,
// containers with their state, Conditions, Volumes, Node-Selectors, Tolerations.
void PodBody(DescribeWriter& w, const reef::v1::Pod& pod);

// "Pod Template:" with the template's labels, containers (no state: a template has
// none), volumes, node selector and tolerations.
void PodTemplate(DescribeWriter& w, const reef::v1::PodTemplateSpec& tmpl);

}  // namespace reef::cli::describe
