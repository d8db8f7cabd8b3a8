#pragma once
// Pod CIDRs per node, as kube-controller-manager's range allocator hands them out: the
// cluster CIDR (--cluster-cidr, 10.42.0.0/16 by default as K3s) is cut into blocks of
// one mask size (/24: 254 pods per node), and each node gets the lowest block no other
// node holds. A node keeps its block for life, so its pods' addresses never move.

#include <set>
#include <string>

#include "common/status.h"

namespace reef::controller {

inline constexpr char kDefaultClusterCidr[] = "10.42.0.0/16";
inline constexpr int kNodeCidrMaskSize = 24;

// The lowest `mask_size` block of `cluster_cidr` (IPv4 "a.b.c.d/n") not in `taken`.
// InvalidArgument for a malformed CIDR or a mask smaller than the cluster's;
// ResourceExhausted when every block is taken.
absl::StatusOr<std::string> NextPodCidr(const std::string& cluster_cidr, int mask_size,
                                        const std::set<std::string>& taken);

// InvalidArgument unless `cidr` is an IPv4 network "a.b.c.d/n" with no host bits set.
absl::Status ValidateClusterCidr(const std::string& cidr);

}  // namespace reef::controller
